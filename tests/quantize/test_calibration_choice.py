"""``--calibration``: static int8 observes activation ranges with each method its quantizer offers and keeps the
one closest to float on held-out speech (:mod:`fitedge.quantize.observers`), or with the one method asked for.

The choice itself is checked on numbers whose answer is known; the recipes are checked on real tiny exports: the
method reaches the quantizer (different methods write different models), and ``auto`` keeps the best candidate
its own comparison measured.
"""

from __future__ import annotations

import numpy as np
import pytest

from fitedge.edge.export.options import ExportOptions
from fitedge.edge.export.pipeline import export_bundle
from fitedge.errors import ConfigError
from fitedge.quantize.observers import (
    BIAS_CORRECTED,
    ONNX_RUNTIME_METHODS,
    PT2E_METHODS,
    choose_calibration,
    methods_to_try,
    preferred,
)
from tests.helpers.cli import assert_one_line_error, no_leftovers, run_cli

WINDOWS = [np.linspace(-1, 1, 50, dtype=np.float32), np.linspace(0, 2, 50, dtype=np.float32)]


def scaled_by(gain: float):
    return lambda window: [window * gain + 0.1 * (1 - gain) * np.sin(np.arange(window.size))]


def test_the_candidate_closest_to_float_on_the_held_out_windows_is_kept() -> None:
    gains = {"minmax": 0.5, "percentile": 1.0, "entropy": 0.9}
    reference = [scaled_by(1.0)(w) for w in WINDOWS]
    chosen, choice = choose_calibration(list(gains), lambda method: gains[method], scaled_by, WINDOWS, reference)
    assert (chosen, choice.method) == (1.0, "percentile")
    assert set(choice.held_out_cosine) == set(gains)
    assert choice.held_out_cosine["percentile"] == pytest.approx(1.0)
    assert choice.held_out_cosine["minmax"] < choice.held_out_cosine["entropy"] < 1.0


def test_a_non_finite_candidate_loses_and_one_method_is_not_compared() -> None:
    reference = [scaled_by(1.0)(w) for w in WINDOWS]
    broken = {"histogram": lambda w: [np.full_like(w, np.nan)], "minmax": scaled_by(0.9)}
    _, choice = choose_calibration(["histogram", "minmax"], lambda m: broken[m], lambda run: run, WINDOWS, reference)
    assert choice.method == "minmax" and choice.held_out_cosine["histogram"] == -1.0
    quantized: list[str] = []
    _, single = choose_calibration(["minmax"], quantized.append, scaled_by, WINDOWS, reference)
    assert (single.method, single.held_out_cosine, quantized) == ("minmax", {}, ["minmax"])


def test_bias_correction_is_kept_only_when_it_clearly_beats_the_uncorrected_methods() -> None:
    corrected = "minmax" + BIAS_CORRECTED
    assert preferred({"histogram": 0.826, "minmax": 0.823, corrected: 0.955}) == corrected  # error 0.174 -> 0.045
    assert preferred({"histogram": 0.9940, "minmax": 0.9906, corrected: 0.9950}) == "histogram"  # 0.0060 -> 0.0050
    assert preferred({"minmax": 0.99, "percentile": 0.995, "entropy": 0.995}) == "percentile"  # the first of equals
    # The candidate kept is the chosen method's own, not the last or the best-scoring one.
    reference = [scaled_by(1.0)(w) for w in WINDOWS]
    gains = {"histogram": 0.99, "minmax": 0.5, corrected: 0.995}
    chosen, choice = choose_calibration(list(gains), lambda m: gains[m], scaled_by, WINDOWS, reference)
    assert choice.method == preferred(choice.held_out_cosine) and chosen == gains[choice.method]


def test_a_method_the_runtime_lacks_is_a_config_error() -> None:
    assert methods_to_try("auto", PT2E_METHODS, "executorch") == PT2E_METHODS
    assert methods_to_try("minmax", PT2E_METHODS, "executorch") == ("minmax",)
    with pytest.raises(ConfigError, match="executorch's int8 recipe calibrates with histogram, minmax"):
        methods_to_try("entropy", PT2E_METHODS, "executorch")
    with pytest.raises(ConfigError, match="--calibration"):
        ExportOptions(calibration="mse")


def test_the_pt2e_observer_replaces_the_activation_observer_only() -> None:
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import get_symmetric_quantization_config
    from torchao.quantization.pt2e.observer import HistogramObserver, MinMaxObserver

    from fitedge.quantize.pt2e import observed_by

    config = get_symmetric_quantization_config(is_per_channel=True)
    minmax = observed_by(config, "minmax")
    assert observed_by(config, "histogram") is config
    observer = minmax.input_activation.observer_or_fake_quant_ctr()
    assert isinstance(observer, MinMaxObserver) and not isinstance(observer, HistogramObserver)
    assert isinstance(config.input_activation.observer_or_fake_quant_ctr(), HistogramObserver)
    assert minmax.weight is config.weight


def export_int8(folder, target: str, calibration: str, **changes) -> dict:
    options = ExportOptions(targets=(target,), precisions=("int8",), seconds=0.5, calib_windows=3, timing_runs=0,
                            int8="plain", calibration=calibration, **changes)
    return export_bundle("tiny", folder, options)["artifacts"][0]


@pytest.mark.parametrize("target, methods", [("onnx", ONNX_RUNTIME_METHODS), ("pte", PT2E_METHODS)])
def test_auto_compares_every_method_and_keeps_the_best(tmp_path, target, methods) -> None:
    entry = export_int8(tmp_path / "auto", target, "auto")
    cosines = entry["calibration"]["held_out_cosine"]
    assert tuple(cosines) == methods
    assert entry["calibration"]["method"] == preferred(cosines)
    assert all(-1.0 <= c <= 1.0 for c in cosines.values())
    leftovers = [p.name for p in (tmp_path / "auto").iterdir() if p.name.startswith(".")]
    assert leftovers == [], leftovers


def test_the_method_reaches_the_quantizer(tmp_path) -> None:
    files = {m: export_int8(tmp_path / m, "onnx", m)["sha256"] for m in ("minmax", "percentile")}
    assert files["minmax"] != files["percentile"]
    litert = export_int8(tmp_path / "litert", "tflite", "auto", litert_int8="dynamic")
    assert "calibration" not in litert  # dynamic int8 observes nothing at export


def test_cli_refuses_a_method_the_target_lacks_before_writing(tmp_path) -> None:
    result = run_cli("export", "tiny", "--out", str(tmp_path / "b"), "--targets", "pte", "--precision", "int8",
                     "--seconds", "0.5", "--calibration", "entropy", "--timing-runs", "0")
    assert_one_line_error(result, "--calibration entropy", "executorch")
    assert no_leftovers(tmp_path, "b")
