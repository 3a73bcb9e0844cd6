"""``fitedge data merge``: one corpus whose splits are the union of several corpora's splits.

A teacher pre-trained on synthetic speech alone has never heard a real voice; merged with the Asterisk
prompts' train split, the same minutes of training see both. The merged folder holds manifests only: its rows
point at the source corpora's audio by absolute path (the manifest's root is ``/``), so it costs nothing to
build and its sources must stay where they are. The sources must share one phoneme inventory, since a
CTC target's label ids come from it; the first source's order is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from fitedge.audio import SAMPLE_RATE
from fitedge.distill.data.corpus import (
    SPLITS,
    building,
    is_corpus,
    load_split,
    phoneme_inventory,
    read_corpus_info,
    write_inventory_and_info,
    write_split,
)
from fitedge.errors import DataError

ROOT = Path("/")  # every row is an absolute path to its source corpus's audio


def merge_corpora(sources: Sequence[str | Path], out: str | Path, force: bool = False) -> dict:
    """Write the corpus folder ``out`` whose every split is the sources' splits in order; returns its
    ``corpus.json`` description."""
    sources = [Path(s).absolute() for s in sources]
    if len(sources) < 2:
        raise DataError("merge needs two or more corpus folders")
    for source in sources:
        if not is_corpus(source):
            raise DataError(f"{source}: not a corpus folder (no train.tsv and corpus.json)")
    inventory = phoneme_inventory(sources[0])
    for source in sources[1:]:
        other = phoneme_inventory(source)
        if set(other) != set(inventory):
            raise DataError(f"{source}: its phonemes differ from {sources[0]}'s (only here: "
                            f"{' '.join(sorted(set(other) - set(inventory))) or '-'}; only there: "
                            f"{' '.join(sorted(set(inventory) - set(other))) or '-'})")
    splits = {split: [replace(u, path=u.path.absolute().relative_to(ROOT)) for s in sources
                      for u in load_split(s, split)] for split in SPLITS}
    info = {"kind": "merged: " + " + ".join(read_corpus_info(s).get("kind", s.name) for s in sources),
            "sources": [str(s) for s in sources],
            "splits": {split: {"utterances": len(rows), "seconds": round(sum(u.num_samples for u in rows) /
                                                                         SAMPLE_RATE, 2)}
                       for split, rows in splits.items()}}
    with building(out, force=force) as work:
        for split, rows in splits.items():
            write_split(work, ROOT, split, rows)
        write_inventory_and_info(work, inventory, info)
    return info
