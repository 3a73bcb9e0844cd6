"""A cell is timed in several processes and the one with the median p50 speaks for it."""

from __future__ import annotations

from fitedge.bench.host.matrix import timed_record


def _process(p50: float, peak_kb: int) -> dict:
    return {"timings_ms": [p50 - 1.0, p50, p50 + 1.0], "load_ms": p50 / 10, "first_inference_ms": 2 * p50,
            "peak_rss_kb": peak_kb, "baseline_rss_kb": 1024}


RECORD = {"audio_seconds": 4.0, "status": "skipped", "error": None}


def test_the_median_process_is_recorded_and_every_process_p50_is_kept() -> None:
    # The second process ran in the slow mode a shared VM sometimes gives a whole process.
    record = timed_record(RECORD, [_process(30.0, 2048), _process(47.0, 4096), _process(29.0, 3072)])
    assert record["status"] == "ok" and record["process_p50_ms"] == [30.0, 47.0, 29.0]
    assert record["latency"]["p50"] == 30.0 and record["timings_ms"] == [29.0, 30.0, 31.0]
    assert (record["load_ms"], record["first_inference_ms"], record["peak_rss_mb"]) == (3.0, 60.0, 2.0)
    assert record["rtf"] == 30.0 / 4000.0
    two = timed_record(RECORD, [_process(47.0, 2048), _process(29.0, 2048)])
    assert two["latency"]["p50"] == 29.0  # of two, the faster: the slow mode is the exception


def test_a_failed_process_fails_the_cell() -> None:
    record = timed_record(RECORD, [_process(30.0, 2048), {"error": "killed by SIGSEGV", "peak_rss_kb": 5120}])
    assert record["status"] == "failed" and record["error"] == "killed by SIGSEGV" and record["peak_rss_mb"] == 5.0
