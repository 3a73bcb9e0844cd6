"""Confidence intervals of a corpus-level error rate, and of the difference of two, by bootstrap over utterances.

Utterances, not symbols, are resampled: errors within an utterance are correlated (one bad voice or one
noisy recording), so treating every phoneme as independent would make the interval too narrow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ConfidenceInterval:
    """A percentile bootstrap interval around a point estimate."""

    estimate: float
    low: float
    high: float
    level: float
    resamples: int

    def to_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high, "level": self.level,
                "resamples": self.resamples}


def utterances_for_half_width(half_width: float, utterances: int, target: float) -> int:
    """Test utterances that narrow an interval of ``half_width``, measured on ``utterances``, to ``target``.

    A bootstrap interval of a mean over utterances narrows as 1/sqrt(n) (the per-utterance spread stays), so
    the answer is ``utterances * (half_width / target) ** 2``: a first-order estimate, good to tens of percent.
    """
    if half_width < 0 or target <= 0 or utterances < 1:
        raise ValueError("half_width >= 0, target > 0 and utterances >= 1 are required")
    return max(1, math.ceil(utterances * (half_width / target) ** 2))


def bootstrap_error_rate(edits: Sequence[int], lengths: Sequence[int], level: float = 0.95,
                         resamples: int = 1000, seed: int = 0) -> ConfidenceInterval:
    """Percentile bootstrap CI of ``sum(edits) / sum(lengths)``, resampling utterances with replacement.

    Args:
        edits: edit count of each utterance.
        lengths: reference length of each utterance (same order).
        level: coverage of the interval, e.g. 0.95.
        resamples: number of bootstrap resamples.
        seed: seed of the resampling, so that a report is reproducible.
    """
    return bootstrap_rate_difference(edits, np.zeros(len(edits)), lengths, level, resamples, seed)


def bootstrap_rate_difference(edits: Sequence[float], baseline_edits: Sequence[float], lengths: Sequence[int],
                              level: float = 0.95, resamples: int = 1000, seed: int = 0) -> ConfidenceInterval:
    """Paired percentile bootstrap CI of ``(sum(edits) - sum(baseline_edits)) / sum(lengths)``.

    Both systems decoded the same utterances, so each resample takes the same utterances for both: what the
    utterances have in common (a hard voice, a noisy recording) cancels, and the interval of the difference is
    much narrower than the two rates' own intervals suggest. Arguments as in :func:`bootstrap_error_rate`.
    """
    a, b = np.asarray(edits, dtype=np.float64), np.asarray(baseline_edits, dtype=np.float64)
    n = np.asarray(lengths, dtype=np.float64)
    if not a.shape == b.shape == n.shape or n.ndim != 1 or n.size == 0:
        raise ValueError("edits, baseline edits and lengths must be equally long, non-empty 1-d sequences")
    e = a - b
    if n.sum() <= 0:
        raise ValueError("the references contain no symbols")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, e.size, size=(resamples, e.size))
    picked_lengths = n[picks].sum(axis=1)
    # A resample of only empty references has no rate; it cannot happen unless most references are empty.
    valid = picked_lengths > 0
    rates = e[picks].sum(axis=1)[valid] / picked_lengths[valid]
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(rates, [tail, 100.0 - tail])
    return ConfidenceInterval(float(e.sum() / n.sum()), float(low), float(high), level, resamples)
