"""Atomic writes: whole or nothing, and what a killed writer left is cleared by the next one (only that)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fitedge.files import atomic_file, atomic_folder, clear_stale, write_json


def dead_pid() -> int:
    """The process id of a process that has exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_file_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "doc.json"
    write_json(target, {"a": 1})
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert target.read_text() == '{\n  "a": 1\n}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.json"]


def test_a_folder_replaces_the_old_one_only_when_complete(tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    with atomic_folder(out) as work:
        (work / "a").write_text("1")
    with pytest.raises(RuntimeError), atomic_folder(out) as work:
        (work / "a").write_text("2")
        raise RuntimeError("crash")
    assert (out / "a").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]


def test_leftovers_of_killed_writers_go_and_a_running_writers_stay(tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    killed = tmp_path / f".bundle.partial-{dead_pid()}-abc"
    killed_old = tmp_path / f".bundle.old-{dead_pid()}-def"
    running = tmp_path / f".bundle.partial-{os.getpid()}-ghi"
    unrelated = tmp_path / ".bundle2.partial-1-x"
    for folder in (killed, killed_old, running, unrelated):
        (folder / "model.pte").parent.mkdir()
        (folder / "model.pte").write_bytes(b"x")
    assert sorted(clear_stale(out)) == sorted([killed, killed_old])
    assert running.is_dir() and unrelated.is_dir()
    with atomic_folder(out) as work:  # every write clears them too
        (work / "a").write_text("1")
    assert running.is_dir() and (out / "a").is_file()
