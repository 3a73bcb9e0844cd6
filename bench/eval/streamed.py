"""PER of a model's streamed output beside its full-utterance PER, with the same probe: what streaming costs.

An app ships one head, trained on full-utterance features. So the probe is trained once, on the model's
full-utterance features of the train split, and then decodes the test split twice: from the full-utterance
features and from the frames a live :class:`~fitedge.edge.stream.stream.Stream` emits at a chunk setting (each
utterance fed in chunk-sized pieces, as a microphone would, and flushed at its end). Both decodings see the same
utterances, so the change comes with a paired bootstrap interval (:func:`~fitedge.bench.eval.gate.paired_increase`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from fitedge.bench.eval.features import FramingStats, select_layers
from fitedge.distill.models.ctc_head import Layer
from fitedge.edge.stream.geometry import StreamGeometry
from fitedge.edge.stream.source import StreamSettings, open_stream
from fitedge.edge.stream.stream import Stream, stream_all


@dataclass(frozen=True)
class StreamFraming:
    """How a streamed feature source sees audio, said in a PER report."""

    geometry: StreamGeometry
    fill_edges: bool = False

    def describe(self) -> str:
        filled = ", windows filled with heard audio" if self.fill_edges else ""
        return f"streamed live, {self.geometry.describe()}{filled}, fed one chunk at a time"


class StreamedFeatures:
    """Features of each utterance as a live stream emits them, ``(layers, frames, dim)`` like the other sources.

    One runner serves every utterance; each gets a fresh stream, fed in chunk-sized pieces and flushed at its end.
    """

    def __init__(self, template: Stream, layer: Layer, name: str) -> None:
        self.runner, self.geometry, self.shift_start = template.runner, template.geometry, template.shift_start
        self.fill_edges = template.fill_edges
        self.layer, self.name = layer, name
        self.framing = StreamFraming(self.geometry, self.fill_edges)
        self.stats = FramingStats()

    def __call__(self, wav: np.ndarray) -> np.ndarray:
        stream = Stream(self.runner, self.geometry, shift_start=self.shift_start, fill_edges=self.fill_edges)
        chunk = self.geometry.chunk * self.geometry.hop
        frames = stream_all(stream, np.asarray(wav, dtype=np.float32).reshape(-1), chunk)
        self.stats.utterances += 1
        return select_layers({name: value[None] for name, value in frames.items()}, self.layer)


def streamed_features(target: Any, setting: StreamSettings, layer: Layer, threads: int | None) -> StreamedFeatures:
    """A :class:`StreamedFeatures` of ``target`` (a model source or a window-sized artifact) at ``setting``."""
    from fitedge.edge.backends import BACKENDS

    eager = BACKENDS.find_file(str(target)) is None
    # An eager model gives the last layer alone unless asked; the probe may read every layer or one of them.
    options = {"outputs": "all"} if eager and layer != "last" else {}
    stream = open_stream(target, setting, threads, **options)
    return StreamedFeatures(stream, layer, f"{target} (streamed: {stream.geometry.describe()})")


@dataclass(frozen=True)
class StreamedPer:
    """One chunk setting's streamed PER against the full-utterance PER of the same model and probe."""

    chunk_ms: float
    left_ms: float
    right_ms: float
    algorithmic_latency_ms: float
    per: float
    ci_low: float
    ci_high: float
    increase_points: float  # streamed PER - full-utterance PER, in points
    increase_ci_points: tuple[float, float]  # its paired 95% interval
    fill_edges: bool = False  # streamed with windows filled with heard audio (Stream.fill_edges)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def streamed_per(report: Any, full: Any, geometry: StreamGeometry, settings: Any,
                 fill_edges: bool = False) -> StreamedPer:
    """``report`` (streamed, ``fill_edges`` or not) against ``full`` (the full-utterance report on the same test
    utterances)."""
    from fitedge.bench.eval.gate import paired_increase

    low, high = paired_increase(report, full, settings)
    ms = geometry.hop_ms
    return StreamedPer(round(geometry.chunk * ms, 3), round(geometry.left * ms, 3), round(geometry.right * ms, 3),
                       round(geometry.algorithmic_latency_ms, 3), report.per, report.ci_low, report.ci_high,
                       round(100 * (report.per - full.per), 4), (round(100 * low, 4), round(100 * high, 4)),
                       fill_edges)


def format_streamed(full: Any, rows: list[StreamedPer]) -> str:
    """A plain-text table: the full-utterance PER, then each chunk setting's streamed PER and its change."""
    lines = [f"full utterance: PER {100 * full.per:.2f}% (95% CI {100 * full.ci_low:.2f}-{100 * full.ci_high:.2f})",
             f"{'chunk ms':>9} {'left ms':>8} {'right ms':>9} {'latency ms':>11} {'PER %':>7} "
             f"{'vs full (points, paired 95% CI)':>34}"]
    for r in rows:
        low, high = r.increase_ci_points
        lines.append(f"{r.chunk_ms:>9g} {r.left_ms:>8g} {r.right_ms:>9g} {r.algorithmic_latency_ms:>11.0f} "
                     f"{100 * r.per:>7.2f} {f'{r.increase_points:+.2f} ({low:+.2f}..{high:+.2f})':>34}")
    if any(r.fill_edges for r in rows):
        lines.append("windows filled with heard audio (--fill-edges): each first frame waited for a whole window")
    return "\n".join(lines)
