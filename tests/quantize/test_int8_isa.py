"""int8 artifacts compute the same numbers on another x86-64 CPU class, emulated if need be.

ONNX Runtime's int8 kernels without VNNI saturate where the VNNI ones do not, so a bundle that passed on a
VNNI machine failed on an AVX2 laptop. The same tiny int8 bundle is verified here natively and under
``qemu-x86_64 -cpu Haswell`` (AVX2, no AVX-512, no VNNI: TCG cannot emulate AVX-512), on whatever CPU the
suite runs on; each artifact's cosine against float must agree between the two within 1e-3 (the saturating
recipe differed by 0.017 on this model) and pass the bundle's floor on both. The default recipes and the
per-row dynamic ones (``.onnx``: s8 x s8 products with 8-bit weights, where the static one needs 7-bit;
``.tflite``: LiteRT's hybrid linears) are both checked.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from fitedge.edge.export.options import ExportOptions
from fitedge.edge.export.pipeline import export_bundle
from fitedge.host import describe_cpu
from tests.helpers import FITEDGE
from tests.helpers.cli import run_cli

EMULATED_CPU = "Haswell"


RECIPES = {"default": ExportOptions(precisions=("int8",), calib_windows=8, timing_runs=0),
           "per-row": ExportOptions(targets=("tflite", "onnx"), precisions=("int8",), calib_windows=8, timing_runs=0,
                                    litert_int8="dynamic-linears", onnx_int8="dynamic")}
PER_ROW = {"tiny_int8.tflite": "litert-dynamic-per-row-linears", "tiny_int8.onnx": "ort-dynamic-per-row-matmuls"}


@pytest.fixture(scope="module", params=list(RECIPES))
def bundle(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("isa") / "bundle"
    export_bundle("tiny", out, RECIPES[request.param])
    return out


def verify_json(*command: str) -> dict:
    proc = subprocess.run(list(command), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_int8_parity_holds_on_an_avx2_cpu(bundle: Path) -> None:
    qemu = shutil.which("qemu-x86_64")
    if qemu is None:
        pytest.fail("qemu-x86_64 not found: apt-get install qemu-user (make system does)")
    verify = [*FITEDGE, "verify", str(bundle), "--json"]
    native = verify_json(*verify)
    emulated = verify_json(qemu, "-cpu", EMULATED_CPU, *verify)
    assert native["cpu"] == describe_cpu()
    assert emulated["cpu"]["class"] == "x86-64 AVX2", emulated["cpu"]
    recipes = {a["file"]: a["recipe"] for a in json.loads((bundle / "manifest.json").read_text())["artifacts"]}
    assert {a["file"] for a in emulated["artifacts"]} == set(recipes)
    assert len(recipes) == 3 or recipes == PER_ROW, recipes
    for here, there in zip(native["artifacts"], emulated["artifacts"], strict=True):
        assert here["ok"] and there["ok"], (here, there)
        assert abs(here["parity"]["cosine"] - there["parity"]["cosine"]) <= 1e-3, (here, there)


def test_manifest_records_where_each_artifact_was_verified(bundle: Path) -> None:
    doc = json.loads((bundle / "manifest.json").read_text())
    assert all(a["parity"]["verified_on"] == describe_cpu() for a in doc["artifacts"])
    lines = run_cli("verify", str(bundle)).output.splitlines()
    assert any(line.startswith(f"on {describe_cpu()['class']} (") for line in lines), lines
