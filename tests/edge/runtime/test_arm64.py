"""A bundle verified on an emulated phone CPU: every torch-free artifact in its runtime's aarch64 build.

``fitedge verify --arch arm64`` runs the artifacts under ``qemu-aarch64`` in an arm64 Python it sets up once
under ``~/.cache/fitedge/arm64`` (about 30 s from nothing, with apt-get and pip; reused afterwards). One CPU
class is checked here, the Armv8.2 dot-product one: its int8 kernels differ from x86-64's and from NEON-only
cores', and the instruction counts show them at work (int8 needs fewer instructions than fp32).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fitedge.edge.export.options import ExportOptions
from fitedge.edge.export.pipeline import export_bundle
from tests.helpers.cli import assert_one_line_error, run_cli

CPU = "cortex-a76"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("qemu-aarch64") is None:
        pytest.fail("qemu-aarch64 not found: apt-get install qemu-user (make system does)")
    out = tmp_path_factory.mktemp("arm64") / "bundle"
    export_bundle("tiny", out, ExportOptions(targets=("tflite", "onnx"), seconds=1.0, calib_windows=8,
                                             timing_runs=0))
    return out


def test_every_artifact_keeps_parity_on_an_emulated_dot_product_core(bundle: Path) -> None:
    result = run_cli("verify", str(bundle), "--arch", "arm64", "--cpu", CPU, "--json", "--record")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    cpu = report["cpus"][CPU]
    assert cpu["class"] == "arm64 dotprod" and "i8mm" not in cpu["isa"], cpu
    assert cpu["midr"] == "0x414fd0b1"  # what a Cortex-A76 r4p1 answers, as the runtimes' cpuinfo reads it
    runs = {a["file"]: a for a in report["artifacts"]}
    assert set(runs) == {f"tiny_{p}.{t}" for p in ("fp32", "int8") for t in ("tflite", "onnx")}
    assert all(a["status"] == "ok" and a["instructions"] > 0 for a in runs.values()), runs
    for runtime in ("litert", "onnxruntime"):
        assert report["int8_over_fp32_instructions"][runtime][CPU] < 1.0, report["int8_over_fp32_instructions"]

    doc = json.loads((bundle / "manifest.json").read_text())
    assert doc["arm64"]["cpus"][CPU]["qemu_cpu"] == CPU
    assert all(a["parity_arm64"][CPU]["status"] == "ok" for a in doc["artifacts"])
    assert f"| {CPU} |" in (bundle / "report.md").read_text()
    assert run_cli("verify", str(bundle)).exit_code == 0  # the recorded manifest is still a valid bundle


def test_without_qemu_verify_arm64_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run_cli("verify", str(tmp_path), "--arch", "arm64")
    assert_one_line_error(result, "qemu-aarch64 not found", "apt-get install qemu-user")


def test_an_unknown_cpu_class_is_refused_with_the_known_ones(bundle: Path) -> None:
    result = run_cli("verify", str(bundle), "--arch", "arm64", "--cpu", "cortex-a999")
    assert_one_line_error(result, "cortex-a999", "cortex-a53", "armv8.6-i8mm")
