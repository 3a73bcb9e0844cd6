"""Wall-clock timing of a runner: load, first inference, warm-up runs (discarded), timed runs.

The one timer: ``fitedge bench`` cells (:mod:`fitedge.bench.host.worker`) and the export's built-in
timing (:func:`fitedge.edge.export.pipeline.median_latency_ms`) both call :func:`time_runner`. Everything is
in milliseconds from :func:`time.perf_counter_ns`. The first inference is kept apart from the warm-up because
it carries one-off costs (allocation, kernel selection, lazy delegate init) that an app pays once per model
load, not per utterance. Statistics over the timed runs: :mod:`fitedge.bench.host.stats`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np


@dataclass
class RunTimings:
    """Raw timings of one benchmark cell, in ms."""

    load_ms: float
    first_inference_ms: float
    timings_ms: list[float] = field(default_factory=list)


def elapsed_ms(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Call ``fn`` once; return its result and the wall time it took in ms."""
    start = time.perf_counter_ns()
    result = fn()
    return result, (time.perf_counter_ns() - start) / 1e6


def time_runner(load: Callable[[], Any], wav: np.ndarray, warmup: int, iters: int,
                on_phase: Callable[[str], None] = lambda phase: None) -> RunTimings:
    """Load a runner with ``load()``, then time ``runner.run(wav)``: one first run, ``warmup``, ``iters``.

    ``on_phase`` hears which phase starts next (``loading``, ``first inference``, ``timed runs``).
    """
    on_phase("loading")
    runner, load_ms = elapsed_ms(load)
    on_phase("first inference")
    _, first_ms = elapsed_ms(lambda: runner.run(wav))
    on_phase("timed runs")
    for _ in range(warmup):
        runner.run(wav)
    timings = [elapsed_ms(lambda: runner.run(wav))[1] for _ in range(iters)]
    return RunTimings(load_ms=load_ms, first_inference_ms=first_ms, timings_ms=timings)


def bench_audio(samples: int, seed: int = 0) -> np.ndarray:
    """A deterministic ``(1, samples)`` float32 input at speech-like level (timing does not depend on content)."""
    rng = np.random.default_rng(seed)
    return (0.1 * rng.standard_normal((1, samples))).astype(np.float32)


def side_by_side_ms(runners: Sequence[Any], wav: np.ndarray, rounds: int) -> list[float]:
    """Median ms of each runner on ``wav``, timed in turns: one run of each per round, after one warm-up each.

    Taking turns puts any change in the machine's load during the comparison on every runner alike, which
    timing one after the other does not.
    """
    return in_turns_ms([partial(runner.run, wav) for runner in runners], rounds)


def in_turns_ms(calls: Sequence[Callable[[], Any]], rounds: int, warm: int = 0) -> list[float]:
    """Median ms of each call, timed in turns as :func:`side_by_side_ms` times runners (each its own input).

    ``warm``: untimed calls before each timed one, so that each call is timed with its own data in the caches and
    its threads awake rather than after the others ran.
    """
    for call in calls:
        call()
    timings: list[list[float]] = [[] for _ in calls]
    for _ in range(rounds):
        for call, times in zip(calls, timings):
            for _ in range(warm):
                call()
            times.append(elapsed_ms(call)[1])
    return [float(np.median(times)) for times in timings]
