"""What a training run reports: a JSONL log (one line per logged step and per validation) and a progress bar."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any


class RunLog:
    """Appends one JSON object per line to ``path`` (main rank only; other ranks write nothing)."""

    def __init__(self, path: Path, enabled: bool, append: bool = False) -> None:
        self.path, self.enabled = Path(path), enabled
        if enabled and not append:
            self.path.write_text("")
        self.start = time.monotonic()

    def write(self, record: dict[str, Any]) -> None:
        if not self.enabled:
            return
        record = {**record, "time": round(time.monotonic() - self.start, 3)}
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")


def read_log(path: str | Path) -> list[dict[str, Any]]:
    """The records of a JSONL run log."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def progress_bar(total: int, initial: int, enabled: bool):
    """A tqdm bar over optimiser steps (disabled: a silent stand-in with the same methods)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, disable=not enabled, unit="step", dynamic_ncols=True)
