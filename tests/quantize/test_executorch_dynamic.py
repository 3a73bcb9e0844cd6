"""``--executorch-int8 dynamic``: every conv and linear on XNNPACK's run-time-quantized kernels, nothing calibrated,
and much closer to float than the static recipe on the same trained model."""

from __future__ import annotations

from pathlib import Path

import pytest

from fitedge.edge.export.options import ExportOptions
from fitedge.edge.export.pipeline import export_bundle
from fitedge.edge.export.verify import verify_bundle
from fitedge.errors import ConfigError
from tests.helpers.cli import run_cli
from tests.quantize.test_export_quantize import train_tiny_on_mfcc


def test_dynamic_int8_pte_is_delegated_uncalibrated_and_closer_to_float_than_static(tmp_path: Path) -> None:
    train_tiny_on_mfcc(tmp_path / "trained")
    entries = {}
    for mode in ("static", "dynamic"):
        options = ExportOptions(targets=("pte",), precisions=("int8",), seconds=1.0, calib_windows=4, timing_runs=0,
                                int8="plain", executorch_int8=mode, allow_degraded=True)
        entries[mode] = export_bundle(tmp_path / "trained", tmp_path / mode, options)["artifacts"][0]
    static, dynamic = entries["static"], entries["dynamic"]
    assert static["recipe"] == "pt2e-xnnpack-static-per-channel-float-norms" and "calibration" in static
    assert dynamic["recipe"] == "pt2e-xnnpack-dynamic-per-channel-float-norms"
    assert "calibration" not in dynamic  # quantized per input at run time: no range to choose
    assert dynamic["keep_float"] == [] and dynamic["delegation"]["delegated_nodes"] > 0
    assert set(dynamic["delegation"]["non_delegated_ops"]) <= {"aten_unsqueeze_copy_default"}  # the input's only
    # Each row's own scale: the int8 error is a fraction of the static recipe's per-tensor one.
    assert 1 - dynamic["parity"]["cosine"] < 0.5 * (1 - static["parity"]["cosine"]), (dynamic["parity"],
                                                                                       static["parity"])
    assert all(check.ok for check in verify_bundle(tmp_path / "dynamic"))


def test_an_unknown_executorch_int8_mode_is_refused(tmp_path: Path) -> None:
    result = run_cli("export", "tiny", "--out", str(tmp_path / "b"), "--executorch-int8", "weights-only")
    assert result.exit_code == 2 and "Invalid value for '--executorch-int8'" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "b").exists()
    with pytest.raises(ConfigError, match="ExecuTorch"):
        ExportOptions(executorch_int8="weights-only")
