"""A fourth backend plugs in with one entry point line and works everywhere the built-in ones do.

``tests/helpers/torchscript_backend.py`` defines a TorchScript backend in one file. The test declares it the way an
installed package would (an entry point in the group ``fitedge.backends``, written into a ``.dist-info`` on the
child's ``PYTHONPATH``), then runs ``fitedge export``, ``fitedge verify`` and ``fitedge bench run`` in child processes
and validates the manifest against the schema, with nothing in fitedge edited for it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from fitedge.edge.backends import BACKENDS
from fitedge.edge.bundle import manifest as mf
from tests.helpers import FITEDGE, REPO

ENTRY_POINT = "torchscript = tests.helpers.torchscript_backend:TorchScriptBackend"


def plugin_site(folder: Path) -> Path:
    """A site folder whose only content is a distribution declaring the TorchScript backend's entry point."""
    info = folder / "fitedge_torchscript-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fitedge-torchscript\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[fitedge.backends]\n{ENTRY_POINT}\n")
    return folder


def fitedge(*args: str, site: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO)])}
    result = subprocess.run([*FITEDGE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("plugin")
    site = plugin_site(root / "site")
    fitedge("export", "tiny", "--targets", "ts,onnx", "--precision", "fp32", "--seconds", "0.5", "--timing-runs", "1",
            "--out", str(root / "bundle"), site=site, cwd=root)
    return root / "bundle", site


def test_export_writes_and_checks_the_plugged_in_artifact(exported) -> None:
    bundle, _ = exported
    doc = json.loads((bundle / "manifest.json").read_text())
    entry = next(a for a in doc["artifacts"] if a["file"] == "tiny_fp32.ts")
    assert entry["runtime"] == "torchscript" and entry["recipe"] == "torch-jit-trace-fp32"
    assert entry["parity"]["cosine"] >= 0.99999 and entry["static"] is True


def test_its_manifest_passes_the_schema_only_where_the_backend_is_registered(exported) -> None:
    bundle, _ = exported
    doc = json.loads((bundle / "manifest.json").read_text())
    assert "torchscript" not in [b.name for b in BACKENDS]  # this process has no plugin
    assert "runtime" in (mf.schema_problem(doc) or "")
    with_plugin = mf.with_runtimes(json.loads(mf.schema_path().read_text()), {**mf.RUNTIMES, "torchscript": ".ts"})
    import jsonschema

    jsonschema.validate(doc, with_plugin)


def test_verify_and_bench_run_take_it(exported, tmp_path) -> None:
    bundle, site = exported
    verified = fitedge("verify", str(bundle), "--json", site=site, cwd=tmp_path)
    checks = {c["file"]: c for c in json.loads(verified.stdout)["artifacts"]}
    assert checks["tiny_fp32.ts"]["ok"] is True
    fitedge("bench", "run", str(bundle), "--seconds", "0.5", "--iters", "2", "--warmup", "1", "--processes", "1",
            "--out", str(tmp_path / "results"), site=site, cwd=tmp_path)
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    runs = [r for r in results["runs"] if r["runtime"] == "torchscript"]
    assert runs and all(r["status"] == "ok" and r["latency"]["p50"] > 0 for r in runs), runs


def test_the_schema_file_lists_exactly_the_built_in_backends() -> None:
    """The Java core validates against the file: it must say what BACKENDS says (regenerate it with with_runtimes)."""
    schema = json.loads(mf.schema_path().read_text())
    assert mf.with_runtimes(schema, {b.name: b.suffix for b in BACKENDS}) == schema


def test_a_clashing_or_unknown_backend_is_one_clear_error() -> None:
    from fitedge.errors import BundleError, ConfigError
    from tests.helpers.torchscript_backend import TorchScriptBackend

    clash = TorchScriptBackend()
    clash.suffix = ".onnx"
    with pytest.raises(ConfigError, match="clashes with 'onnxruntime'"):
        BACKENDS.register(clash)
    with pytest.raises(ConfigError, match="unknown target 'xyz': choose from pte, tflite, onnx"):
        BACKENDS.for_target("xyz")
    with pytest.raises(BundleError, match="not an artifact fitedge runs"):
        BACKENDS.for_file("model.bin")
