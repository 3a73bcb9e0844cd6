"""Latency statistics: one :class:`MetricStats` per series of timed runs (warm-up runs never enter it).

Percentiles interpolate linearly between closest ranks (numpy's default) and the standard deviation is the
population one (ddof=0): the same definitions the Android core uses (contract 3), so host and device columns
of a report mean the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from fitedge.errors import ConfigError


@dataclass(frozen=True)
class MetricStats:
    """Summary of one metric over timed runs, in ``unit``."""

    name: str
    unit: str
    n: int
    mean: float
    std: float
    p50: float
    p90: float
    p99: float
    min: float
    max: float

    def to_dict(self) -> dict:
        return asdict(self)


def summarize(values: Sequence[float], name: str = "latency", unit: str = "ms") -> MetricStats:
    """Mean, population std, p50/p90/p99 and range of ``values``; raises on an empty series."""
    if len(values) == 0:
        raise ConfigError(f"cannot summarize {name}: no timed runs (iterations must be >= 1)")
    a = np.asarray(values, dtype=np.float64)
    p50, p90, p99 = np.percentile(a, [50, 90, 99])
    return MetricStats(name=name, unit=unit, n=int(a.size), mean=float(a.mean()), std=float(a.std()),
                       p50=float(p50), p90=float(p90), p99=float(p99), min=float(a.min()), max=float(a.max()))


def device_stats_as_metric(stats: dict, n: int) -> MetricStats:
    """A contract-3 ``stats`` object (``mean_ms``, ``p50_ms``, ...) as a :class:`MetricStats` in ms."""
    return MetricStats(name="latency", unit="ms", n=n, mean=float(stats["mean_ms"]), std=float(stats["std_ms"]),
                       p50=float(stats["p50_ms"]), p90=float(stats["p90_ms"]), p99=float(stats["p99_ms"]),
                       min=float(stats["min_ms"]), max=float(stats["max_ms"]))
