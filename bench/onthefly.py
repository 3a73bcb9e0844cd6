"""Models named as bench targets are exported on the fly, into a temporary bundle per model.

The export is the Export engineer's pipeline (:mod:`fitedge.edge.pipeline`), with its defaults: every
runtime in float32 and int8, verified. When several audio lengths are asked for, the bundle is exported with
a bounded dynamic length covering them, so that the runtimes that allow it can be timed at every length.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

log = logging.getLogger(__name__)


class BundleExporter:
    """Callable ``source -> bundle folder`` under ``root``, one export per source, for the bench targets."""

    def __init__(self, root: Path, seconds: tuple[float, ...], progress: bool = False, sample_rate: int = 16000):
        self.root, self.seconds, self.progress, self.sample_rate = root, seconds, progress, sample_rate
        self.done: dict[str, Path] = {}

    def dynamic_bounds(self) -> tuple[int, int] | None:
        """Sample bounds covering every requested length, or None for a single length (static export)."""
        if len(set(self.seconds)) < 2:
            return None
        return int(min(self.seconds) * self.sample_rate), int(max(self.seconds) * self.sample_rate)

    def __call__(self, source: str) -> Path:
        if source not in self.done:
            from fitedge.edge.pipeline import export_bundle

            out = self.root / re.sub(r"[^A-Za-z0-9_.-]+", "_", source)
            log.info("exporting %s into a temporary bundle %s", source, out)
            export_bundle(source, out, seconds=max(self.seconds), dynamic=self.dynamic_bounds(),
                          progress=self.progress)
            self.done[source] = out
        return self.done[source]
