"""``fitedge data merge``: every split of the merged corpus is the sources' splits, pointing at their audio."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from fitedge.distill.data.audio import read_audio, write_audio
from fitedge.distill.data.corpus import (
    SPLITS,
    Utterance,
    load_split,
    phoneme_inventory,
    write_inventory_and_info,
    write_split,
)
from tests.helpers.cli import assert_one_line_error, run_cli

INVENTORY = ["AA", "B", "K"]


def _corpus(folder: Path, kind: str, per_split: int, inventory: list[str] = INVENTORY) -> Path:
    """A corpus folder of ``per_split`` short noise recordings per split, each labelled with its own number."""
    rng = np.random.default_rng(len(kind))
    for split in SPLITS:
        rows = []
        for i in range(per_split):
            relpath = Path(split) / f"{kind}-{i}.wav"
            (folder / relpath).parent.mkdir(parents=True, exist_ok=True)
            write_audio(folder / relpath, (rng.standard_normal(1600 + 160 * i) * 0.1).astype(np.float32))
            rows.append(Utterance(relpath, 1600 + 160 * i, f"{kind} {i}", [inventory[i % len(inventory)]]))
        write_split(folder, folder, split, rows)
    write_inventory_and_info(folder, inventory, {"kind": kind})
    return folder


def test_every_split_is_both_sources_rows_in_order(tmp_path: Path) -> None:
    first, second = _corpus(tmp_path / "synth", "synth", 3), _corpus(tmp_path / "real", "real", 2)
    result = run_cli("data", "merge", str(first), str(second), "--out", str(tmp_path / "mixed"), "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["kind"] == "merged: synth + real" and info["sources"] == [str(first), str(second)]
    for split in SPLITS:
        merged = load_split(tmp_path / "mixed", split)
        assert merged == load_split(first, split) + load_split(second, split)
        seconds = round(sum(u.num_samples for u in merged) / 16000, 2)
        assert info["splits"][split] == {"utterances": 5, "seconds": seconds}
        assert all(u.path.is_file() and read_audio(u.path).shape == (u.num_samples,) for u in merged)
    assert phoneme_inventory(tmp_path / "mixed") == INVENTORY


def test_sources_with_other_phonemes_or_no_corpus_are_one_line_errors(tmp_path: Path) -> None:
    first = _corpus(tmp_path / "a", "a", 1)
    other = _corpus(tmp_path / "b", "b", 1, ["AA", "B", "ZH"])
    result = run_cli("data", "merge", str(first), str(other), "--out", str(tmp_path / "mixed"))
    assert_one_line_error(result, "only here: ZH; only there: K")
    assert not (tmp_path / "mixed").exists()  # nothing half-written
    assert_one_line_error(run_cli("data", "merge", str(first), str(tmp_path), "--out", str(tmp_path / "m")),
                          "not a corpus folder")
    assert_one_line_error(run_cli("data", "merge", str(first), "--out", str(tmp_path / "m")), "two or more")
