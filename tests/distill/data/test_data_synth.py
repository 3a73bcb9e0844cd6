"""The espeak-ng corpus: layout, 16 kHz audio, voice-disjoint splits, phone labels, determinism; text source."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
import soundfile as sf

from fitedge.audio import SAMPLE_RATE
from fitedge.distill.data.corpus import SPLITS, load_split, phoneme_inventory, read_corpus_info
from fitedge.distill.data.datasets import list_audio
from fitedge.distill.data.phonemes import ARPABET, espeak_ipa, ipa_to_arpabet
from fitedge.distill.data.sentences import generate_sentences, read_sentences, spell_number
from fitedge.distill.data.synthesis import SynthConfig, plan_split, synthesize_corpus
from fitedge.errors import DataError

VOICES = ("en-us+m3", "en-us+f3", "en-gb+m2", "en-us+klatt", "en-029+f2", "en-gb-scotland+m5")


def _build(out: Path, seed: int = 4, jobs: int = 2) -> dict:
    config = SynthConfig(minutes=0.35, seed=seed, voices=VOICES, valid_voices=1, test_voices=1, jobs=jobs)
    return synthesize_corpus(out, config)


def _fingerprint(corpus: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in corpus.rglob("*") if p.is_file() and p.name != "corpus.json"):
        if path.suffix == ".tsv":  # the first line is the absolute root, which differs between folders
            digest.update(path.read_bytes().split(b"\n", 1)[1])
        else:
            digest.update(path.relative_to(corpus).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "corpus"
    _build(out)
    return out


def test_layout_audio_and_labels(corpus: Path) -> None:
    for name in ("phonemes.txt", "corpus.json", *(f"{s}.{e}" for s in SPLITS for e in ("tsv", "wrd", "phn"))):
        assert (corpus / name).is_file(), name
    assert phoneme_inventory(corpus) == ARPABET
    info = read_corpus_info(corpus)
    assert sum(s["seconds"] for s in info["splits"].values()) >= 0.35 * 60
    for split in SPLITS:
        utterances = load_split(corpus, split)
        assert utterances, split
        for u in utterances:
            data, rate = sf.read(u.path)
            assert rate == SAMPLE_RATE and data.ndim == 1 and data.shape[0] == u.num_samples
            assert data.std() > 0.01  # speech, not silence
            assert u.text and len(u.phonemes) >= 5 and set(u.phonemes) <= set(ARPABET)
            assert u.path.parent.name in info["voices"][split]
    assert info["unmapped_espeak_symbols"] == {}


def test_splits_are_disjoint_by_voice(corpus: Path) -> None:
    voices = {s: {u.path.parent.name for u in load_split(corpus, s)} for s in SPLITS}
    assert voices["train"] and voices["valid"] and voices["test"]
    assert not voices["train"] & voices["test"] and not voices["train"] & voices["valid"]
    assert not voices["valid"] & voices["test"]
    assert len(voices["train"]) >= 2  # voices take turns, not one voice per split


def test_corpus_folder_feeds_the_dataset(corpus: Path) -> None:
    items = list_audio(corpus)
    assert [i.path for i in items] == [u.path for u in load_split(corpus, "train")]


def test_same_seed_same_corpus_whatever_the_jobs(corpus: Path, tmp_path: Path) -> None:
    _build(tmp_path / "again", jobs=1)
    assert _fingerprint(tmp_path / "again") == _fingerprint(corpus)
    config = SynthConfig(voices=VOICES, valid_voices=1, test_voices=1)
    first = [next(plan_split(dataclasses.replace(config, seed=seed), "train", list(VOICES))) for seed in (4, 4, 5)]
    assert first[0] == first[1] and first[0] != first[2]  # another seed, another corpus


def test_existing_output_is_refused_and_unknown_voice_rejected(corpus: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="already exists"):
        _build(corpus)
    with pytest.raises(DataError, match="no voice"):
        synthesize_corpus(tmp_path / "x", SynthConfig(minutes=0.1, voices=("en-us+nosuch", *VOICES[1:])))
    assert not (tmp_path / "x").exists() and not list(tmp_path.glob(".x*"))  # nothing half-written


def test_text_file_in_arctic_format(tmp_path: Path) -> None:
    lines = [f'( arctic_a{i:04d} "Sentence number {spell_number(i)} is here." )' for i in range(1, 41)]
    (tmp_path / "arctic.data").write_text("\n".join(lines) + "\n")
    config = SynthConfig(minutes=0.1, voices=VOICES[:3], valid_voices=1, test_voices=1, noise=False,
                         text_file=str(tmp_path / "arctic.data"), jobs=1)
    info = synthesize_corpus(tmp_path / "c", config)
    assert info["config"]["text_file"].endswith("arctic.data")
    texts = {u.text for s in SPLITS for u in load_split(tmp_path / "c", s)}
    assert texts and all(t.startswith("Sentence number") for t in texts)


def test_sentence_generator_is_varied_and_seeded() -> None:
    sentences = generate_sentences(3000, seed=1)
    assert len(set(sentences)) == 3000
    words = {w.strip(".,?").lower() for s in sentences for w in s.split()}
    assert len(words) > 600
    assert generate_sentences(50, seed=1) == sentences[:50]
    assert generate_sentences(50, seed=2) != sentences[:50]


def test_read_sentences_plain_and_arctic(tmp_path: Path) -> None:
    (tmp_path / "plain.txt").write_text("One line.\n\nAnother line?\n")
    assert read_sentences(tmp_path / "plain.txt") == ["One line.", "Another line?"]
    (tmp_path / "a.data").write_text('( arctic_a0001 "Author of the danger trail, Philip Steels, etc." )\n')
    assert read_sentences(tmp_path / "a.data") == ["Author of the danger trail, Philip Steels, etc."]
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(DataError, match="no sentences"):
        read_sentences(tmp_path / "empty.txt")


def test_spell_number() -> None:
    assert spell_number(7) == "seven" and spell_number(40) == "forty"
    assert spell_number(345) == "three hundred and forty five"
    assert spell_number(1984) == "nineteen eighty four" and spell_number(2005) == "two thousand five"


def test_ipa_to_arpabet_follows_the_accent() -> None:
    american, unknown = ipa_to_arpabet(espeak_ipa("the car is far", "en-us"))
    assert american == "DH AH K AA R IH Z F AA R".split() and unknown == []
    british, _ = ipa_to_arpabet(espeak_ipa("the car is far", "en-gb"))
    assert british[-1] == "AA" and british.count("R") < american.count("R")  # non-rhotic voice, fewer R
    assert ipa_to_arpabet("b_ˈʌ_ɾ_ɚ")[0] == ["B", "AH", "DX", "ER"]
    assert ipa_to_arpabet("k_ʘ")[1] == ["ʘ"]  # an unknown symbol is reported, not silently invented


def test_corpus_json_is_valid_json(corpus: Path) -> None:
    info = json.loads((corpus / "corpus.json").read_text())
    assert info["config"]["seed"] == 4 and set(info["voices"]) == set(SPLITS)


def test_cli_builds_a_corpus_and_fails_in_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from fitedge.cli import cli
    runner = CliRunner()
    args = ["data", "synth", "--out", str(tmp_path / "c"), "--minutes", "0.1", "--no-noise", "--jobs", "1",
            "--voices", "en-us+m3,en-us+f3", "--voices", "en-gb+m2", "--valid-voices", "1", "--test-voices", "1"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and read_corpus_info(tmp_path / "c")["config"]["noise"] is False
    again = runner.invoke(cli, args)
    assert again.exit_code == 1 and "already exists" in again.output and "Traceback" not in again.output
    bad = runner.invoke(cli, [*args[:3], str(tmp_path / "d"), "--voices", "en-us+nosuch,en-us+f3,en-gb+m2,en-029+f2,x"])
    assert bad.exit_code == 1 and "no voice" in bad.output and not (tmp_path / "d").exists()


def test_the_test_split_can_be_sized_on_its_own(tmp_path: Path) -> None:
    """A test split large enough to resolve a 0.5-point PER change, without growing the training data."""
    config = SynthConfig(minutes=0.2, test_minutes=0.3, seed=2, voices=VOICES[:3], valid_voices=1, test_voices=1,
                         noise=False, jobs=1)
    info = synthesize_corpus(tmp_path / "c", config)
    assert 18 <= info["splits"]["test"]["seconds"] < 18 + 8  # 0.3 minutes, cut after the utterance that fills it
    assert info["splits"]["train"]["seconds"] < 0.8 * 0.2 * 60 + 8
    assert info["config"]["test_minutes"] == 0.3
    with pytest.raises(DataError, match="positive"):
        SynthConfig(test_minutes=0)
