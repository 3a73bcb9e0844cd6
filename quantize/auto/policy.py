"""Which blocks stay out of int8: ``--int8 auto`` (the default), ``--int8 plain``, or the user's ``--keep-float``.

Plain int8 can pass the cosine floor and still ruin a trained model: a trained FitHuBERT student's thin
convolutions, whose int8 noise a LayerNorm over few channels amplifies on quiet frames, cost 19-26 PER points
on real speech while the output cosine looked fine. So ``auto`` does what a careful user did by hand: it
measures each block's own int8 cost (:mod:`fitedge.quantize.auto.sensitivity`), keeps the blocks that stand out in
float, and, if an artifact then still misses the floor, takes the next most harmful block out of int8 too,
until it passes or nothing is left to take out.

With what each block costs in the runtime being exported (:class:`BlockCost`: the block alone in float and in
int8, :mod:`fitedge.edge.export.per_block`), the plan is also cost-aware. Any plan that keeps the flagged blocks
float meets the screening's accuracy bar, and its time is about plain int8's plus what int8 saves in each block
kept float; so the fastest of them also keeps float every block where float is clearly faster than int8 (which
only lowers the error). When an artifact still misses the floor, the next block taken out of int8 is the one
with the most int8 error per millisecond that int8 saves in it, not the most harmful alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from fitedge.quantize.auto.sensitivity import STANDS_OUT_FACTOR, STANDS_OUT_STEP, BlockSensitivity, worth_keeping_float

MAX_WIDENINGS = 4  # blocks auto may add one by one after the first choice; each costs one more lowering
# Dynamic int8 replaces float blocks only when this much faster. Within it the two count as equally fast: two LiteRT
# int8 fithubert artifacts timed side by side differed by up to 10% between runs on one idle machine, and a choice
# that flips between runs would change the bundle's numbers from one export to the next.
RUN_TIME_MARGIN = 1.15
# A block is kept float for its speed only when int8 is slower by this much: timed alone in a short run, two
# blocks within it would flip between exports (the same noise as RUN_TIME_MARGIN's).
FLOAT_FASTER_MARGIN = 1.15
SAVING_FLOOR_MS = 1e-3  # what int8 saves in a block, at least, when ranking blocks by error per ms saved


@dataclass(frozen=True)
class BlockCost:
    """One block's median time alone in one runtime, in float and in int8 (the artifact's recipe)."""

    block: str
    float_ms: float
    int8_ms: float

    @property
    def saving_ms(self) -> float:
        """What int8 saves in this block (negative where float is faster)."""
        return self.float_ms - self.int8_ms


@dataclass(frozen=True)
class Int8Plan:
    """The blocks kept float in int8 artifacts, why, and (auto) the measured cost of each block."""

    mode: str  # "auto", "plain" or "manual" (--keep-float)
    keep_float: tuple[str, ...]
    reason: str
    sensitivity: tuple[BlockSensitivity, ...] = ()
    widened: int = 0
    run_time_quantized: tuple[str, ...] = ()  # flagged blocks left to a dynamic recipe instead of float
    costs: tuple[BlockCost, ...] = ()  # each block's float and int8 time in the runtime exported to, when measured

    def widen(self, why: str) -> Int8Plan | None:
        """The same plan with the most harmful block not yet float taken out of int8 (``None``: none left); with
        costs, the one with the most int8 error per ms that int8 saves in it.

        After :meth:`handled_at_run_time`, the first widening takes the flagged blocks float after all.
        """
        if self.mode != "auto" or self.widened >= MAX_WIDENINGS:
            return None
        if self.run_time_quantized:
            return replace(self, keep_float=self.run_time_quantized, run_time_quantized=(), widened=self.widened + 1,
                           reason=f"{self.reason}; the flagged blocks float after all: {why}")
        remaining = [r for r in self.sensitivity if r.block not in self.keep_float]
        if not remaining:
            return None
        block = max(remaining, key=self._widening_priority).block
        return replace(self, keep_float=(*self.keep_float, block), widened=self.widened + 1,
                       reason=f"{self.reason}; {block} too: {why}")

    def _widening_priority(self, result: BlockSensitivity) -> float:
        """How much a block's int8 error weighs when widening: its loss, per ms int8 saves in it when timed."""
        loss = 1.0 - result.cosine
        cost = next((c for c in self.costs if c.block == result.block), None)
        return loss if cost is None else loss / max(cost.saving_ms, SAVING_FLOOR_MS)

    def with_costs(self, costs: Sequence[BlockCost], runtime: str) -> Int8Plan:
        """This auto plan knowing ``costs`` in ``runtime``: also float where float is clearly faster than int8."""
        if self.mode != "auto":
            return self
        free = [c for c in costs if c.block not in self.keep_float and c.int8_ms > FLOAT_FASTER_MARGIN * c.float_ms]
        reason = self.reason
        if free:
            # After ", " not "; ": the report reads what follows "; " as the blocks widened after lowering.
            times = ", ".join(f"{c.block} {c.float_ms:.2f} ms float, {c.int8_ms:.2f} ms int8" for c in free)
            reason = f"{reason}, and {', '.join(c.block for c in free)} float too: faster float in {runtime} ({times})"
        return replace(self, keep_float=(*self.keep_float, *(c.block for c in free)), costs=tuple(costs),
                       reason=reason)

    @property
    def float_cost_ms(self) -> float | None:
        """What the blocks kept float are expected to cost over plain int8 (``None`` without costs)."""
        if not self.costs:
            return None
        return sum(c.saving_ms for c in self.costs if c.block in self.keep_float)

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
        doc: dict[str, Any] = {"mode": self.mode, "keep_float": list(self.keep_float), "reason": self.reason}
        if self.costs:
            errors = {r.block: r.cosine for r in self.sensitivity}
            doc["blocks"] = [{"block": c.block, "cosine": round(errors[c.block], 7) if c.block in errors else None,
                              "float_ms": round(c.float_ms, 4), "int8_ms": round(c.int8_ms, 4),
                              "float": c.block in self.keep_float} for c in self.costs]
            doc["float_cost_ms"] = round(self.float_cost_ms or 0.0, 4)
        return doc


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
