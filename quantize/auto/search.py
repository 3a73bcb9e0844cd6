"""int8 auto's search for one artifact: lower the plan, and take more blocks out of int8 until it passes the floor.

Where the runtime quantizes activations at run time (LiteRT's dynamic recipe), the search also tries it with no
block float: its activation ranges are each input's own, which is what the blocks the screening flagged lack
under static ranges. It is kept when it passes and is clearly faster than the flagged blocks float, timed side by
side (fithubert with its conv front end float: 98 ms static against 50 ms dynamic; with one conv float the two are
within 10%, and then the float blocks stay).

Lowering, loading and timing are the runtime side's: an :class:`Int8Target` carries them in as callables.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fitedge.parity import Parity
from fitedge.quantize.auto.policy import Int8Plan, prefer_run_time

SIDE_BY_SIDE_ROUNDS = 9  # runs of each of two int8 candidates timed in turns
RUN_TIME_FOLDER = ".run-time-int8"  # beside the artifact while both candidates exist


@dataclass(frozen=True)
class Lowered:
    """One lowered int8 artifact: its manifest entry so far, the loaded runner, its file and its held-out parity."""

    entry: dict[str, Any]
    runner: Any
    path: Path
    parity: Parity


@dataclass(frozen=True)
class Candidate:
    """A lowered int8 artifact and the plan it stands for."""

    artifact: Lowered
    plan: Int8Plan


@dataclass(frozen=True)
class Int8Target:
    """One int8 artifact to search for, and what the search asks of its runtime.

    ``lower(keep_float, folder)`` writes the artifact into ``folder`` with ``keep_float`` out of int8, loads it
    and checks it on held-out speech; ``time_side_by_side(runners, rounds)`` gives each runner's median ms, timed
    in turns; ``quantizes_at_run_time``: whether its int8 recipe quantizes activations per input.
    """

    file: str
    folder: Path
    min_cosine: float
    quantizes_at_run_time: bool
    lower: Callable[[tuple[str, ...], Path], Lowered]
    time_side_by_side: Callable[[Sequence[Any], int], list[float]]


def search_int8(target: Int8Target, plan: Int8Plan, say: Callable[[str], None]) -> Candidate:
    """``target`` with ``plan``'s blocks float, widened in auto while it misses the floor, or run-time int8."""
    first_choice = plan.mode == "auto" and bool(plan.keep_float) and not plan.widened  # not after a refusal
    run_time = None
    if first_choice and target.quantizes_at_run_time:
        run_time = _run_time_candidate(target, plan, say)
    chosen = _widened_to_floor(target, plan, say)
    if run_time is not None:
        chosen = _faster(run_time, chosen, target, say)
    return chosen


def _widened_to_floor(target: Int8Target, plan: Int8Plan, say: Callable[[str], None]) -> Candidate:
    """``target`` with ``plan``'s blocks float, and in auto one more at a time while it misses the floor."""
    while True:
        lowered = target.lower(plan.keep_float, target.folder)
        cosine = lowered.parity.cosine
        wider = None if cosine >= target.min_cosine else plan.widen(
            f"{target.file} at cosine {cosine:.6f} < {target.min_cosine}")
        if wider is None:
            return Candidate(lowered, plan)
        say(f"{target.file}: {lowered.parity.describe()}, below --min-cosine {target.min_cosine}; keeping "
            f"{wider.keep_float[-1]} float too")
        plan = wider


def _run_time_candidate(target: Int8Target, plan: Int8Plan, say: Callable[[str], None]) -> Candidate | None:
    """Run-time int8 with no block float, in a subfolder; ``None`` when it loses more than ``plan`` allows."""
    aside = target.folder / RUN_TIME_FOLDER
    aside.mkdir()
    lowered = target.lower((), aside)
    if lowered.parity.cosine >= target.min_cosine and plan.tolerates(lowered.parity.cosine):
        return Candidate(lowered, plan)
    say(f"{target.file}: dynamic int8 with no block float: {lowered.parity.describe()}; keeping the flagged blocks "
        f"float")
    shutil.rmtree(aside)
    return None


def _faster(run_time: Candidate, with_float: Candidate, target: Int8Target, say: Callable[[str], None]) -> Candidate:
    """Run-time int8 if the flagged blocks float missed the floor or it is clearly faster, else the float blocks.

    Both are timed in turns on the golden input; the kept one ends up at ``target.folder / target.file``.
    """
    run_time_ms, float_ms = target.time_side_by_side([run_time.artifact.runner, with_float.artifact.runner],
                                                     SIDE_BY_SIDE_ROUNDS)
    cosine = run_time.artifact.parity.cosine
    say(f"{target.file}: dynamic int8 with no block float {run_time_ms:.1f} ms, with the flagged blocks float "
        f"{float_ms:.1f} ms (side by side)")
    if with_float.artifact.parity.cosine >= target.min_cosine and not prefer_run_time(run_time_ms, float_ms):
        shutil.rmtree(run_time.artifact.path.parent)
        return dataclasses.replace(with_float, plan=with_float.plan.kept_over_run_time(cosine, run_time_ms, float_ms))
    destination = target.folder / target.file
    run_time.artifact.path.replace(destination)
    run_time.artifact.path.parent.rmdir()
    return Candidate(dataclasses.replace(run_time.artifact, path=destination),
                     run_time.plan.handled_at_run_time(cosine, run_time_ms, float_ms))
