"""Models named as bench targets are exported on the fly, into a temporary bundle per model.

The export is the Export engineer's pipeline (:mod:`fitedge.edge.pipeline`), with its defaults: every
runtime in float32 and int8, verified. When several audio lengths are asked for, the bundle is exported with
a bounded dynamic length covering them, so that the runtimes that allow it can be timed at every length.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


class BundleExporter:
    """Callable ``source -> bundle folder`` under ``root``, one export per source, for the bench targets.

    Args:
        root: folder that receives one bundle per exported source (the caller owns its lifetime).
        seconds: the audio lengths the benchmark will ask for.
        threads: thread count for the export's own parity runs.
        say: receives the export's progress lines (the CLI turns them into a progress bar).
    """

    def __init__(self, root: Path, seconds: tuple[float, ...], threads: int = 2,
                 say: Callable[[str], None] | None = None, sample_rate: int = 16000) -> None:
        self.root, self.seconds, self.threads, self.say, self.sample_rate = root, seconds, threads, say, sample_rate
        self.done: dict[str, Path] = {}

    def options(self):
        """Export defaults, with a bounded dynamic length covering every requested length when there are several.

        The golden/static length is the middle one, so static artifacts (LiteRT) still time the main cell.
        """
        from fitedge.edge.options import ExportOptions

        lengths = sorted(set(self.seconds))
        middle = lengths[(len(lengths) - 1) // 2]
        dynamic = None
        if len(lengths) > 1:
            dynamic = (int(lengths[0] * self.sample_rate), int(lengths[-1] * self.sample_rate))
        # One timing run: the benchmark times every artifact properly; the export's own timing is only a sketch.
        return ExportOptions(seconds=middle, dynamic=dynamic, threads=self.threads, timing_runs=1)

    def __call__(self, source: str) -> Path:
        if source not in self.done:
            from fitedge.edge.pipeline import export_bundle

            out = self.root / re.sub(r"[^A-Za-z0-9_.-]+", "_", source)
            log.info("exporting %s into the temporary bundle %s", source, out)
            export_bundle(source, out, self.options(), progress=self.say)
            self.done[source] = out
        return self.done[source]
