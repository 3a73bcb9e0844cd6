"""How many test utterances a paired PER interval needs: the 1/sqrt(n) estimate lands near its target."""

from __future__ import annotations

import numpy as np
import pytest

from fitedge.bench.eval.bootstrap import bootstrap_rate_difference, utterances_for_half_width


def _paired(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Float and int8 edits of ``n`` utterances: int8 changes 2 in 5 by 1-3 edits, mostly worse."""
    lengths = rng.integers(20, 50, n)
    float_edits = rng.binomial(lengths, 0.3)
    change = rng.choice([-2, -1, 0, 1, 3], size=n, p=[0.05, 0.1, 0.6, 0.15, 0.1])
    return np.maximum(float_edits + change, 0), float_edits, lengths


def _half_width_points(n: int, seed: int) -> float:
    int8, float_, lengths = _paired(n, np.random.default_rng(seed))
    ci = bootstrap_rate_difference(int8, float_, lengths, resamples=2000, seed=seed)
    return 100 * (ci.high - ci.low) / 2


def test_the_estimated_size_gives_about_the_target_half_width() -> None:
    measured = _half_width_points(150, seed=1)
    needed = utterances_for_half_width(measured, 150, target=0.3)
    assert needed > 150  # 150 utterances are too few for +/-0.3 with this spread
    achieved = np.mean([_half_width_points(needed, seed) for seed in (2, 3, 4)])
    assert 0.22 < achieved < 0.38, (measured, needed, achieved)


def test_sizes_scale_with_the_square_of_the_ratio() -> None:
    assert utterances_for_half_width(0.75, 150, 0.3) == 938  # the 150 utterances at +/-0.75
    assert utterances_for_half_width(0.3, 1000, 0.3) == 1000
    assert utterances_for_half_width(0.0, 1000, 0.3) == 1
    with pytest.raises(ValueError):
        utterances_for_half_width(0.5, 100, 0.0)
