"""Each benchmark cell runs in its own process: failures, hangs and memory are the child's, not ours."""

from __future__ import annotations

import resource

from fitedge.bench.host.isolate import run_isolated


def _spec(**changes) -> dict:
    return {"runtime": "eager", "source": "tiny", "samples": 16000, "threads": 1, "warmup": 1, "iters": 3, **changes}


def test_an_eager_cell_gets_every_timing_and_its_own_peak_memory():
    result = run_isolated(_spec(), timeout_s=120)
    assert "error" not in result, result
    assert len(result["timings_ms"]) == 3 and min(result["timings_ms"]) > 0
    assert result["load_ms"] > 0 and result["first_inference_ms"] > 0
    # The child's own peak: above what it had after importing torch, and unmoved when this parent grows by 1 GB.
    assert result["peak_rss_kb"] >= result["baseline_rss_kb"] > 50 * 1024
    big = bytearray(1024 * 1024 * 1024)
    big[::4096] = b"x" * len(big[::4096])
    again = run_isolated(_spec(), timeout_s=120)["peak_rss_kb"]
    assert again < result["peak_rss_kb"] + 200 * 1024 < resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def test_garbage_bytes_are_a_recorded_failure_not_a_crash_of_the_caller(tmp_path):
    broken = tmp_path / "broken.pte"  # (a broken .onnx is part of the end-to-end test in test_bench_cli.py)
    broken.write_bytes(b"\x08\x01garbage, not a model" * 64)
    result = run_isolated(_spec(runtime="executorch", path=str(broken), source=None), timeout_s=120)
    assert "timings_ms" not in result
    assert result["error"]  # a Python error from the runtime, or the signal it died of
    assert result["peak_rss_kb"] > 0


def test_a_cell_past_its_timeout_is_killed_and_recorded():
    result = run_isolated(_spec(iters=100000), timeout_s=3)
    assert result["error"].startswith("timed out after 3 s (killed)")
