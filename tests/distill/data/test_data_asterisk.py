"""The Asterisk prompts corpus: real speech from the Debian package, CMUdict phones, non-speech dropped."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from fitedge.audio import SAMPLE_RATE
from fitedge.distill.data.asterisk import (
    build_asterisk_corpus,
    find_sounds_dir,
    find_transcripts,
    normalise,
    read_transcripts,
    split_of,
)
from fitedge.distill.data.corpus import SPLITS, load_split, phoneme_inventory
from fitedge.distill.data.phonemes import ARPABET
from fitedge.errors import DataError

try:
    SOUNDS = find_sounds_dir()
    TRANSCRIPTS = find_transcripts(SOUNDS)
except DataError:
    SOUNDS = TRANSCRIPTS = None
needs_package = pytest.mark.usefixtures("asterisk_package")


@pytest.fixture
def asterisk_package() -> None:
    if SOUNDS is None:  # fail, not skip: `make test` installs the package, so its absence is a broken set-up
        pytest.fail("Debian asterisk-core-sounds-en(-wav) is not installed (run make system)")


def test_normalise_drops_annotations_and_flags_ambiguous_numbers() -> None:
    assert normalise("[this is a simple beep tone]") == []
    assert normalise("(10 seconds of silence)") == []
    assert normalise("at [@]") == ["at"]
    assert normalise("Press 1 then #, or *.") == ["press", "one", "then", "pound", "or", "star"]
    assert normalise("dial 500 now") is None and normalise("a 28.8 kilobit modem") is None


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("asterisk") / "corpus"
    return out, build_asterisk_corpus(out)


@needs_package
def test_every_speech_prompt_becomes_an_utterance(corpus: tuple[Path, dict]) -> None:
    out, info = corpus
    prompts = read_transcripts(TRANSCRIPTS)
    wavs = {p.relative_to(SOUNDS).with_suffix("").as_posix() for p in SOUNDS.rglob("*.wav")}
    speech = {name for name, text in prompts.items() if name in wavs and normalise(text)}
    utterances = [u for s in SPLITS for u in load_split(out, s)]
    assert len(wavs) == 568  # what the Debian package ships
    assert {u.path.relative_to(out / "wav").with_suffix("").as_posix() for u in utterances} == speech
    assert len(utterances) > 500
    dropped = set(info["dropped"]["non_speech"])
    assert {"beep", "beeperr", "tt-monkeys", "silence/1"} <= dropped and not dropped & speech


@needs_package
def test_audio_is_16k_and_labels_come_from_cmudict(corpus: tuple[Path, dict]) -> None:
    out, info = corpus
    assert phoneme_inventory(out) == ARPABET
    by_name = {u.path.stem: u for s in SPLITS for u in load_split(out, s)}
    thanks = by_name["auth-thankyou"]
    assert thanks.text == "thank you" and thanks.phonemes == "TH AE NG K Y UW".split()
    data, rate = sf.read(thanks.path)
    assert rate == SAMPLE_RATE and data.shape[0] == thanks.num_samples
    source, source_rate = sf.read(SOUNDS / "auth-thankyou.wav")
    assert source_rate == 8000 and abs(data.shape[0] - 2 * source.shape[0]) <= 1
    for u in by_name.values():
        assert u.phonemes and set(u.phonemes) <= set(ARPABET)
    assert "digium" in info["words_from_espeak"]


@needs_package
def test_split_is_fixed_and_keeps_repeated_text_together(corpus: tuple[Path, dict]) -> None:
    out, _ = corpus
    sizes = {s: len(load_split(out, s)) for s in SPLITS}
    assert sizes["test"] > 20 and sizes["valid"] > 20 and sizes["train"] > 4 * sizes["test"]
    texts = {s: {u.text for u in load_split(out, s)} for s in SPLITS}
    assert not texts["train"] & texts["test"] and not texts["train"] & texts["valid"]
    assert all(split_of(u.text.split()) == s for s in SPLITS for u in load_split(out, s))  # a pure function of text


def test_builds_from_any_prompt_folder_and_transcript_file(tmp_path: Path) -> None:
    sounds = tmp_path / "sounds"
    (sounds / "digits").mkdir(parents=True)
    prompts = {f"prompt-{i}": f"Please hold for operator number {i}." for i in range(30)}
    prompts |= {"beep": "[this is a simple beep tone]", "silence/1": "(1 second of silence)", "digits/5": "5",
                "demo": "Dial 500 now.", "missing-audio": "Hello."}
    for name in prompts:
        if name != "missing-audio":
            (sounds / name).parent.mkdir(parents=True, exist_ok=True)
            sf.write(sounds / f"{name}.wav", 0.3 * np.sin(np.arange(4000) / 5.0), 8000)
    transcripts = tmp_path / "core-sounds-en.txt.gz"
    with gzip.open(transcripts, "wt") as f:
        f.write("; Core Asterisk Sounds in English\n\n" + "".join(f"{n}: {t}\n" for n, t in prompts.items()))
    info = build_asterisk_corpus(tmp_path / "c", sounds=sounds, transcripts=transcripts)
    utterances = {u.path.stem: u for s in SPLITS for u in load_split(tmp_path / "c", s)}
    assert len(utterances) == 31 and utterances["5"].phonemes == "F AY V".split()
    assert sorted(info["dropped"]["non_speech"]) == ["beep", "silence/1"]
    assert info["dropped"]["ambiguous_numbers"] == ["demo"] and info["dropped"]["no_audio"] == ["missing-audio"]
    assert all(sf.info(u.path).samplerate == SAMPLE_RATE and u.num_samples == 8000 for u in utterances.values())


def test_missing_prompts_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("hello: Hello.\n")
    with pytest.raises(DataError, match="no prompt matched"):
        build_asterisk_corpus(tmp_path / "c", sounds=tmp_path, transcripts=tmp_path / "t.txt")
    assert not (tmp_path / "c").exists()
