"""Latency statistics and the results.json schema: definitions that the report and the Android core share."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from fitedge.bench.host.stats import summarize
from fitedge.bench.report.schema import schema_problems, validate_device_results, validate_results
from fitedge.errors import ConfigError, DataError


def test_summarize_uses_linear_percentiles_and_population_std():
    values = [5.0, 1.0, 4.0, 2.0, 3.0, 10.0]
    s = summarize(values)
    assert (s.n, s.min, s.max) == (6, 1.0, 10.0)
    assert s.p50 == pytest.approx(3.5)
    assert s.p90 == pytest.approx(7.5)            # between 5 and 10: linear interpolation, not nearest rank
    assert s.p99 == pytest.approx(9.75)
    assert s.std == pytest.approx(np.std(values))  # ddof=0
    assert s.std != pytest.approx(np.std(values, ddof=1))


def test_summarize_refuses_an_empty_series():
    with pytest.raises(ConfigError, match="no timed runs"):
        summarize([])


def _run(**changes) -> dict:
    run = {
        "model": "tiny", "artifact": "eager", "runtime": "eager", "precision": "fp32", "recipe": None,
        "device": "host", "status": "ok", "error": None, "audio_seconds": 1.0, "input_samples": 16000,
        "threads": 1, "warmup": 0, "iterations": 2, "bytes": 10, "parameters": 2, "macs": None, "load_ms": 1.0,
        "first_inference_ms": 2.0, "timings_ms": [1.0, 2.0], "latency": summarize([1.0, 2.0]).to_dict(),
        "rtf": 0.0015, "peak_rss_mb": 100.0, "baseline_rss_mb": 90.0, "gflops": None, "peak_fraction": None,
        "delegation": None, "parity": None,
    }
    return {**run, **changes}


def _doc(runs: list[dict]) -> dict:
    return {
        "schema": "fitedge.bench", "schema_version": 1, "fitedge_version": "0.1.0", "created": "2026-01-01T00:00:00",
        "environment": {"kind": "host", "cpu_model": "x", "machine": "x86_64", "cores": 2, "os": "Linux",
                        "python": "3.11", "versions": {"torch": "2.13.0"},
                        "load_average": {"start": [0.5, 0.4, 0.3], "end": None}},
        "peaks": [{"threads": 1, "fp32_gflops": 50.0, "int8_gops": None, "size": 1024}],
        "settings": {"seconds": [1.0], "threads": [1], "warmup": 0, "iterations": 2, "timeout_s": 60.0,
                     "reference": None},
        "devices": [], "runs": runs, "comparisons": [], "headline": None,
        "scaling": {"length": [], "threads": [], "attention_crossover_s": {}}, "notes": [],
    }


def test_a_complete_document_validates():
    doc = _doc([_run(), _run(status="failed", error="crashed with SIGSEGV", timings_ms=[], latency=None)])
    assert validate_results(doc) is doc


@pytest.mark.parametrize("breakage, expected", [
    (lambda d: d.pop("environment"), "results.environment: missing"),
    (lambda d: d["runs"][0].update(status="fine"), "results.runs[0].status: 'fine' is not one of"),
    (lambda d: d["runs"][0].update(threads=True), "results.runs[0].threads: expected int, got bool"),
    (lambda d: d["runs"][0].update(timings_ms=[1.0]), "one timing per iteration"),
    (lambda d: d["runs"][0].update(status="failed"), "status failed needs an error"),
    (lambda d: d["runs"][0]["latency"].pop("p90"), "results.runs[0].latency.p90: missing"),
    (lambda d: d.update(schema_version=2), "schema_version: 2 is not 1"),
])
def test_schema_names_what_is_wrong(breakage, expected):
    doc = _doc([_run()])
    broken = copy.deepcopy(doc)
    breakage(broken)
    assert not schema_problems(doc)
    assert any(expected in p for p in schema_problems(broken)), schema_problems(broken)
    with pytest.raises(DataError, match="not a valid fitedge.bench v1 results file"):
        validate_results(broken)


def test_device_results_schema_rejects_another_schema():
    with pytest.raises(DataError, match="device_results.schema"):
        validate_device_results({"schema": "something.else", "schema_version": 1, "app_version": None,
                                 "device": {}, "bundle": {}, "runs": []})


def _timed(artifact: str, precision: str, p50: float) -> dict:
    return {"model": "fit", "artifact": artifact, "runtime": "x", "precision": precision, "device": "host",
            "audio_seconds": 4.0, "threads": 2, "status": "ok", "latency": {"p50": p50}}


def test_the_advice_names_int8_where_it_pays_and_fp32_where_it_does_not():
    from fitedge.bench.host.compare import class_advice

    fast_int8 = [_timed("a_fp32.tflite", "fp32", 63.0), _timed("a_fp32.pte", "fp32", 70.0),
                 _timed("a_int8.tflite", "int8", 28.0), _timed("a_int8.onnx", "int8", 31.0)]
    [line] = class_advice(fast_int8, "x86-64 AVX-512 VNNI")
    assert line.startswith("fit on x86-64 AVX-512 VNNI: use a_int8.tflite (28.0 ms), int8 is 2.25x faster")
    slow_int8 = [_timed("a_fp32.tflite", "fp32", 103.0), _timed("a_int8.tflite", "int8", 114.0)]
    [line] = class_advice(slow_int8, "x86-64 AVX2")
    assert "int8 is not faster than fp32 on this CPU class" in line and line.endswith("use a_fp32.tflite")
