"""Files and folders written whole or not at all: the one home of fitedge's atomic writes.

Everything fitedge writes (checkpoints, corpora, bundles, training state, audio, reports) is built under a
temporary name beside its destination and renamed into place only when complete, so a crash or Ctrl-C never
leaves half an artifact under the real name. A run killed outright (``kill -9``) cannot clean up after
itself, so temporary folders carry the writer's process id, and the next write to the same destination
removes those whose process is gone, never one of a run that is still going.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_file(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it becomes ``path`` when the block ends without error."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or ".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_file(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_json(path: str | Path, doc: Any, indent: int | None = 2) -> Path:
    """Write ``doc`` as JSON to ``path`` atomically (a reader never sees half a document)."""
    return write_text(path, json.dumps(doc, indent=indent) + "\n")


@contextlib.contextmanager
def atomic_folder(out: str | Path, mode: int | None = None) -> Iterator[Path]:
    """Yield a fresh hidden folder beside ``out``; on success it replaces ``out``, on error it is removed.

    ``mode`` sets the folder's permissions (``mkdtemp`` makes it private). Deciding whether ``out`` may be
    replaced at all is the caller's job, before any work.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    clear_stale(out)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-", dir=out.parent))
    if mode is not None:
        work.chmod(mode)
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    replace_folder(work, out)


def replace_folder(new: Path, out: Path) -> None:
    """Move ``new`` to ``out``; an old ``out`` is moved aside first and deleted only after the swap."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-{os.getpid()}-", dir=out.parent))
        os.replace(out, old / out.name)
    os.replace(new, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def clear_stale(out: Path) -> list[Path]:
    """Remove the temporary folders of ``out`` left by writers that no longer run; returns what was removed."""
    pattern = re.compile(rf"^\.{re.escape(out.name)}\.(?:partial|old)-(\d+)-")
    removed = []
    for candidate in out.parent.glob(f".{out.name}.*"):
        match = pattern.match(candidate.name)
        if match and candidate.is_dir() and not _running(int(match.group(1))):
            shutil.rmtree(candidate, ignore_errors=True)
            removed.append(candidate)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
