"""The one thread set-and-restore (``fitedge.threads``) and the one timer (``fitedge.edge.runtime.timing``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fitedge.edge.export.pipeline import median_latency_ms
from fitedge.edge.runtime.timing import side_by_side_ms, time_runner
from fitedge.threads import torch_threads


@pytest.mark.parametrize("threads", [None, 0])
def test_no_thread_count_leaves_torch_as_it_is(threads: int | None) -> None:
    before = torch.get_num_threads()
    with torch_threads(threads):
        assert torch.get_num_threads() == before
    assert torch.get_num_threads() == before


def test_threads_are_restored_also_when_the_body_raises() -> None:
    before = torch.get_num_threads()
    wanted = 1 if before != 1 else 2
    with pytest.raises(RuntimeError), torch_threads(wanted):
        assert torch.get_num_threads() == wanted
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before


class CountingRunner:
    def __init__(self) -> None:
        self.calls = 0

    def run(self, wav: np.ndarray) -> dict:
        self.calls += 1
        return {}


def test_the_timer_separates_first_inference_warm_up_and_timed_runs() -> None:
    runner, phases = CountingRunner(), []
    timed = time_runner(lambda: runner, np.zeros((1, 16), np.float32), warmup=2, iters=3, on_phase=phases.append)
    assert runner.calls == 1 + 2 + 3 and len(timed.timings_ms) == 3
    assert phases == ["loading", "first inference", "timed runs"]
    assert timed.load_ms >= 0 and timed.first_inference_ms >= 0 and min(timed.timings_ms) >= 0


def test_the_exports_median_is_one_warm_up_then_the_median_of_the_timed_runs() -> None:
    runner = CountingRunner()
    latency = median_latency_ms(runner, np.zeros((1, 16), np.float32), 5)
    assert runner.calls == 1 + 5 and isinstance(latency, float) and latency >= 0
    idle = CountingRunner()
    assert median_latency_ms(idle, np.zeros((1, 16), np.float32), 0) is None and idle.calls == 0


def test_side_by_side_timing_takes_turns_and_gives_one_median_each() -> None:
    order: list[str] = []

    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

        def run(self, wav: np.ndarray) -> dict:
            order.append(self.name)
            return {}

    medians = side_by_side_ms([Named("a"), Named("b")], np.zeros((1, 16), np.float32), rounds=3)
    assert order == ["a", "b"] * 4  # a warm-up of each, then three rounds of one run each in turn
    assert len(medians) == 2 and min(medians) >= 0
