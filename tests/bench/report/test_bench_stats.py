"""Latency statistics (definitions that the report and the Android core share) and the per-class advice."""

from __future__ import annotations

import numpy as np
import pytest

from fitedge.bench.host.stats import summarize
from fitedge.errors import ConfigError


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


def test_the_advice_names_the_fastest_artifact_when_precisions_are_unknown():
    from fitedge.bench.host.compare import class_advice

    loose = [_timed("static.pte", "unknown", 3.2), _timed("dynamic.pte", "unknown", 2.9)]  # files without a manifest
    [line] = class_advice(loose, "x86-64 AVX-512 VNNI")
    assert line == "fit on x86-64 AVX-512 VNNI: fastest artifact dynamic.pte (2.9 ms)"
