"""Which blocks stay out of int8: ``--int8 auto`` (the default), ``--int8 plain``, or the user's ``--keep-float``.

Plain int8 can pass the cosine floor and still ruin a trained model: a trained FitHuBERT student's thin
convolutions, whose int8 noise a LayerNorm over few channels amplifies on quiet frames, cost 19-26 PER points
on real speech while the output cosine looked fine. So ``auto`` does what a careful user did by hand: it
measures each block's own int8 cost (:mod:`fitedge.quantize.auto.sensitivity`), keeps the blocks that stand out in
float, and, if an artifact then still misses the floor, takes the next most harmful block out of int8 too,
until it passes or nothing is left to take out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from fitedge.quantize.auto.sensitivity import STANDS_OUT_FACTOR, STANDS_OUT_STEP, BlockSensitivity, worth_keeping_float

MAX_WIDENINGS = 4  # blocks auto may add one by one after the first choice; each costs one more lowering
# Dynamic int8 replaces float blocks only when this much faster. Within it the two count as equally fast: two LiteRT
# int8 fithubert artifacts timed side by side differed by up to 10% between runs on one idle machine, and a choice
# that flips between runs would change the bundle's numbers from one export to the next.
RUN_TIME_MARGIN = 1.15


@dataclass(frozen=True)
class Int8Plan:
    """The blocks kept float in int8 artifacts, why, and (auto) the measured cost of each block."""

    mode: str  # "auto", "plain" or "manual" (--keep-float)
    keep_float: tuple[str, ...]
    reason: str
    sensitivity: tuple[BlockSensitivity, ...] = ()
    widened: int = 0
    run_time_quantized: tuple[str, ...] = ()  # flagged blocks left to a dynamic recipe instead of float

    def widen(self, why: str) -> Int8Plan | None:
        """The same plan with the most harmful block not yet float taken out of int8 (``None``: none left).

        After :meth:`handled_at_run_time`, the first widening takes the flagged blocks float after all.
        """
        if self.mode != "auto" or self.widened >= MAX_WIDENINGS:
            return None
        if self.run_time_quantized:
            return replace(self, keep_float=self.run_time_quantized, run_time_quantized=(), widened=self.widened + 1,
                           reason=f"{self.reason}; the flagged blocks float after all: {why}")
        remaining = [r for r in sorted(self.sensitivity, key=lambda r: r.cosine) if r.block not in self.keep_float]
        if not remaining:
            return None
        block = remaining[0].block
        return replace(self, keep_float=(*self.keep_float, block), widened=self.widened + 1,
                       reason=f"{self.reason}; {block} too: {why}")

    def tolerates(self, cosine: float) -> bool:
        """Whether a whole artifact at ``cosine`` loses no more than a block that does not stand out would alone."""
        losses = [1.0 - r.cosine for r in self.sensitivity]
        return bool(losses) and 1.0 - cosine <= max(STANDS_OUT_FACTOR * min(losses), 1e-6)

    def handled_at_run_time(self, cosine: float, run_time_ms: float, float_ms: float) -> Int8Plan:
        """The plan for a recipe that quantizes activations per input: the flagged blocks need no float there."""
        return replace(self, keep_float=(), run_time_quantized=self.keep_float,
                       reason=f"{self.reason}; none kept float: dynamic int8 (activations quantized per input at run "
                       f"time) keeps them at cosine {cosine:.6f} in {run_time_ms:.1f} ms, against {float_ms:.1f} ms "
                       f"with them float")

    def kept_over_run_time(self, cosine: float, run_time_ms: float, float_ms: float) -> Int8Plan:
        """This plan, noting the dynamic int8 it was kept over and why: not clearly faster."""
        return replace(self, reason=f"{self.reason}; not dynamic int8 (cosine {cosine:.6f}): its {run_time_ms:.1f} ms "
                                    f"against {float_ms:.1f} ms with them float is not {RUN_TIME_MARGIN:g}x faster")

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "keep_float": list(self.keep_float), "reason": self.reason}


def prefer_run_time(run_time_ms: float, float_ms: float) -> bool:
    """Whether dynamic int8 with no block float beats the flagged blocks float: clearly faster, timed side by side."""
    return float_ms > RUN_TIME_MARGIN * run_time_ms


def plan_int8(mode: str, keep_float: tuple[str, ...], measure: Callable[[], list[BlockSensitivity]]) -> Int8Plan:
    """The starting plan: the user's ``keep_float`` if any, nothing for ``plain``, the outliers for ``auto``.

    ``measure`` runs the per-block sensitivity; it is called only in auto mode.
    """
    if keep_float:
        return Int8Plan("manual", tuple(keep_float), "--keep-float")
    if mode == "plain":
        return Int8Plan("plain", (), "--int8 plain")
    results = tuple(measure())
    flagged = tuple(worth_keeping_float(list(results)))
    if not flagged:
        return Int8Plan("auto", (), "no block's int8 error stands out", results)
    mildest = max(r.cosine for r in results if r.block in flagged)
    least = max(r.cosine for r in results)
    reason = (f"int8 error of {', '.join(flagged)} stands out ({STANDS_OUT_FACTOR:g}x the least harmful block's, or "
              f"above a {STANDS_OUT_STEP:g}x step between blocks) "
              f"(cosine alone in int8 {mildest:.6f} or lower, against {least:.6f} at best)")
    return Int8Plan("auto", flagged, reason, results)


def sensitivity_table(plan: Int8Plan) -> list[dict[str, float | str]]:
    """Each block's own int8 cost, for the manifest (empty unless measured)."""
    return [{"block": r.block, "cosine": round(r.cosine, 7),
             "snr_db": round(r.snr_db, 2) if np.isfinite(r.snr_db) else r.snr_db} for r in plan.sensitivity]
