"""The labelled corpus folder that ``fitedge data synth`` and ``fitedge data asterisk`` write.

Layout (contract 4)::

    DIR/{train,valid,test}.tsv   fairseq manifest: first line = absolute root folder, then rel/path.wav<TAB>num_samples
    DIR/{train,valid,test}.phn   one line per tsv row: space-separated phoneme symbols
    DIR/{train,valid,test}.wrd   one line per tsv row: the text
    DIR/phonemes.txt             the phoneme inventory, one per line
    DIR/corpus.json              what it is (kind, voices per split, seconds, seed, ...)

A corpus is built in a hidden sibling folder and renamed into place at the end, so an interrupted build
never leaves a half-written corpus under the requested name.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fitedge.errors import DataError
from fitedge.files import atomic_folder

log = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class Utterance:
    """One labelled recording: its audio file, length in 16 kHz samples, words and phonemes."""

    path: Path
    num_samples: int
    text: str
    phonemes: list[str]


def read_audio_tsv(tsv: str | Path) -> list[tuple[Path, int]]:
    """``(absolute path, num_samples)`` for every row of a fairseq TSV manifest.

    When the root folder on the first line does not exist (the corpus was moved or copied), the manifest's
    own folder is used instead, so a corpus folder stays usable wherever it lands.
    """
    tsv = Path(tsv)
    try:
        lines = tsv.read_text().splitlines()
    except OSError as e:
        raise DataError(f"{tsv}: cannot read manifest ({e.strerror})") from None
    if not lines:
        raise DataError(f"{tsv}: empty manifest (the first line must be the root folder)")
    root = Path(lines[0].strip())
    if not root.is_dir():
        log.debug("%s: root %s does not exist, using the manifest's folder", tsv, root)
        root = tsv.parent
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2 or not fields[1].strip().isdigit():
            raise DataError(f"{tsv}:{number}: expected 'relative/path<TAB>num_samples', got {line[:80]!r}")
        rows.append((root / fields[0], int(fields[1])))
    return rows


def load_split(corpus_dir: str | Path, split: str) -> list[Utterance]:
    """The utterances of one split (``train``, ``valid`` or ``test``) of a labelled corpus folder."""
    corpus_dir = Path(corpus_dir)
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; one of {', '.join(SPLITS)}")
    rows = read_audio_tsv(corpus_dir / f"{split}.tsv")
    texts = _read_lines(corpus_dir / f"{split}.wrd")
    phones = _read_lines(corpus_dir / f"{split}.phn")
    if not len(rows) == len(texts) == len(phones):
        raise DataError(
            f"{corpus_dir}: {split}.tsv/.wrd/.phn disagree ({len(rows)}, {len(texts)}, {len(phones)} rows)"
        )
    return [Utterance(path, n, text, line.split()) for (path, n), text, line in zip(rows, texts, phones)]


def phoneme_inventory(corpus_dir: str | Path) -> list[str]:
    """The corpus's phoneme symbols, in the order of ``phonemes.txt`` (stable label ids for a probe)."""
    return [p for p in _read_lines(Path(corpus_dir) / "phonemes.txt") if p]


def read_corpus_info(corpus_dir: str | Path) -> dict:
    """The ``corpus.json`` description of a corpus folder."""
    path = Path(corpus_dir) / "corpus.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: cannot read corpus description ({e})") from None


def is_corpus(path: str | Path) -> bool:
    """Whether ``path`` is a labelled corpus folder (it has a ``train.tsv`` and a ``corpus.json``)."""
    path = Path(path)
    return (path / "train.tsv").is_file() and (path / "corpus.json").is_file()


def write_split(corpus_dir: Path, root: Path, split: str, utterances: Iterable[Utterance]) -> None:
    """Write ``split``'s .tsv/.wrd/.phn; utterance paths are stored relative to ``root`` (the final folder)."""
    tsv, wrd, phn = [f"{root}\n"], [], []
    for u in utterances:
        tsv.append(f"{u.path.as_posix()}\t{u.num_samples}\n")
        wrd.append(" ".join(u.text.split()) + "\n")
        phn.append(" ".join(u.phonemes) + "\n")
    (corpus_dir / f"{split}.tsv").write_text("".join(tsv))
    (corpus_dir / f"{split}.wrd").write_text("".join(wrd))
    (corpus_dir / f"{split}.phn").write_text("".join(phn))


def write_inventory_and_info(corpus_dir: Path, inventory: Iterable[str], info: dict) -> None:
    """Write ``phonemes.txt`` and ``corpus.json``."""
    (corpus_dir / "phonemes.txt").write_text("".join(f"{p}\n" for p in inventory))
    (corpus_dir / "corpus.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")


@contextmanager
def building(out: str | Path, force: bool = False) -> Iterator[Path]:
    """Yield a fresh hidden folder beside ``out``; on success it replaces ``out``, on failure it is removed."""
    out = Path(out).absolute()
    if out.exists() and not (out.is_dir() and not any(out.iterdir())) and not force:
        raise DataError(f"{out}: already exists and is not empty (pass --force to replace it)")
    with atomic_folder(out, mode=0o755) as work:  # a corpus is meant to be shared
        yield work


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror})") from None
