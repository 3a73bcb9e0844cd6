"""The streaming-student comparison script: which settings each kind of model is streamed at (same latencies)."""

from __future__ import annotations

from fitedge.bench.host.streaming_student import settings
from fitedge.distill.models.config import preset
from fitedge.edge.stream.geometry import StreamGeometry


def latencies(config, rows):
    return sorted(StreamGeometry.of_model(config, *row).algorithmic_latency_ms for row in rows)


def test_both_kinds_are_streamed_at_the_same_algorithmic_latencies():
    chunked, full = preset("tiny-stream"), preset("tiny")
    own = settings(chunked, left_ms=1280)
    assert own == [(320.0, 960.0, 0.0), (640.0, 960.0, 0.0)]  # whole attention chunks, its own left, no lookahead
    baseline = settings(full, left_ms=1280)
    assert (320.0, 1280.0, 320.0) in baseline and all(left == 1280 for _, left, _ in baseline)
    assert set(latencies(chunked, own)) == set(latencies(full, baseline)) == {325.0, 645.0}
