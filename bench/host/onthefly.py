"""Models named as bench targets are exported on the fly, one bundle per model.

The export is :func:`fitedge.edge.export.pipeline.export_bundle` with its defaults: every runtime in float32 and
int8, verified. When several audio lengths are asked for, the bundle is exported with a bounded dynamic length
covering them, so that the runtimes that allow it can be timed at every length; for ``--stream``, with one
streaming window per chunk setting (one bundle per setting). Bundles go to a folder the
caller owns: a temporary one, or a kept one (``fitedge bench --bundles DIR``) where a bundle exported earlier
from the same source with the same lengths is reused instead of exported again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fitedge.audio import SAMPLE_RATE
from fitedge.edge.bundle import manifest as mf
from fitedge.edge.stream.geometry import streaming_section
from fitedge.edge.stream.source import StreamSettings
from fitedge.errors import BundleError

log = logging.getLogger(__name__)


def bundle_matches(folder: Path, source: str, options: Any) -> bool:
    """Whether ``folder`` holds a complete bundle of ``source`` exported for the lengths (or the streaming setting)
    of these export options."""
    try:
        manifest = mf.Manifest.read(folder)
    except BundleError:
        return False
    audio = manifest.audio
    bounds = (audio.min_samples, audio.max_samples) if audio.dynamic else None
    geometry = options.stream_geometry(manifest.model.config)
    streaming = streaming_section(geometry, manifest.model.config) if geometry else None
    samples = geometry.window_samples if geometry else options.input_samples
    return (manifest.model.source in (source, f"preset:{source}") and audio.input_samples == samples
            and bounds == options.dynamic and manifest.streaming == streaming
            and all((folder / a.file).is_file() for a in manifest.artifacts))


class BundleExporter:
    """Callable ``source -> bundle folder`` under ``root``, one export per source, for the bench targets.

    Args:
        root: folder that receives one bundle per exported source (the caller owns its lifetime).
        seconds: the audio lengths the benchmark will ask for.
        threads: thread count for the export's own parity runs.
        say: receives the export's progress lines (the CLI turns them into a progress bar).
        reuse: reuse a matching bundle already in ``root`` (see :func:`bundle_matches`).
        stream: export for streaming at this chunk/context setting (``fitedge bench run --stream``): the static
            input is one window, and the folder's name says the setting, so that each setting keeps its bundle.
    """

    def __init__(self, root: Path, seconds: tuple[float, ...], threads: int = 2,
                 say: Callable[[str], None] | None = None, reuse: bool = False, sample_rate: int = SAMPLE_RATE,
                 stream: StreamSettings | None = None) -> None:
        self.root, self.seconds, self.threads, self.say = root, seconds, threads, say
        self.reuse, self.sample_rate, self.stream = reuse, sample_rate, stream
        self.done: dict[str, Path] = {}  # a source named twice is exported once

    def options(self) -> Any:
        """Export defaults, with a bounded dynamic length covering every requested length when there are several.

        The golden/static length is the middle one, so static artifacts (LiteRT) still time the main cell.
        """
        from fitedge.edge.export.options import ExportOptions

        if self.stream is not None:
            return ExportOptions(chunk_ms=self.stream.chunk_ms, left_ms=self.stream.left_ms,
                                 right_ms=self.stream.right_ms, threads=self.threads, timing_runs=1, force=True)
        lengths = sorted(set(self.seconds))
        middle = lengths[(len(lengths) - 1) // 2]
        dynamic = None
        if len(lengths) > 1:
            dynamic = (int(lengths[0] * self.sample_rate), int(lengths[-1] * self.sample_rate))
        # One timing run: the benchmark times every artifact properly; the export's own timing is only a sketch.
        # force: in the bench's own folder a bundle that does not match is stale and gets replaced.
        return ExportOptions(seconds=middle, dynamic=dynamic, threads=self.threads, timing_runs=1, force=True)

    def suffix(self) -> str:
        """``-stream-c320-l1280-r320`` for a streaming setting, else nothing."""
        s = self.stream
        return "" if s is None else f"-stream-c{s.chunk_ms:g}-l{s.left_ms:g}-r{s.right_ms:g}"

    def __call__(self, source: str) -> Path:
        from fitedge.edge.export.pipeline import export_bundle

        out = self.root / (re.sub(r"[^A-Za-z0-9_.-]+", "_", source) + self.suffix())
        options = self.options()
        if source in self.done or (self.reuse and bundle_matches(out, source, options)):
            log.info("reusing the bundle %s exported earlier from %s", out, source)
        else:
            log.info("exporting %s into %s", source, out)
            export_bundle(source, out, options, progress=self.say)
        self.done[source] = out
        return out
