"""The Python API of the root package: ``fitedge.export``, ``fitedge.benchmark`` and ``fitedge.evaluate`` call
the library functions the command line calls, and ``import fitedge`` stays light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import fitedge
from fitedge.edge.bundle.manifest import read_bundle_manifest
from fitedge.edge.export.verify import verify_bundle
from tests.helpers.corpus import tiny_corpus


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("api") / "bundle"
    lines: list[str] = []
    manifest = fitedge.export("tiny", out, targets=("onnx",), precisions=("fp32",), seconds=1.0, timing_runs=1,
                              progress=lines.append)
    assert lines  # the progress lines went to the callback
    return out, manifest


def test_import_fitedge_does_not_import_torch() -> None:
    code = "import sys, fitedge; assert 'torch' not in sys.modules, 'torch imported'; fitedge.export; fitedge.evaluate"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_export_writes_a_bundle_whose_manifest_validates(bundle: tuple[Path, dict]) -> None:
    out, manifest = bundle
    assert read_bundle_manifest(out) == manifest
    assert [a["file"] for a in manifest["artifacts"]] == [f for f in (p.name for p in out.iterdir())
                                                          if f.endswith(".onnx")]
    checks = verify_bundle(out, threads=1)
    assert checks and all(c.ok for c in checks), [c.problem for c in checks]


def test_export_rejects_an_unknown_option(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="colour"):
        fitedge.export("tiny", tmp_path / "b", colour="red")


def test_evaluate_returns_a_per_report(bundle: tuple[Path, dict], tmp_path: Path) -> None:
    corpus = tiny_corpus(tmp_path / "corpus", minutes=1.0)
    out, manifest = bundle
    artifact = out / manifest["artifacts"][0]["file"]
    report = fitedge.evaluate(artifact, corpus, epochs=2, max_train=8)
    assert report.per >= 0 and report.ci_low <= report.per <= report.ci_high
    assert report.utterances > 0 and report.corpus and report.model


def test_benchmark_returns_the_results_document(bundle: tuple[Path, dict]) -> None:
    out, _ = bundle
    doc = fitedge.benchmark(out, seconds=(1.0,), threads=(1,), warmup=0, iters=2, processes=1, export_models=False)
    runs = [r for r in doc["runs"] if r["status"] == "ok"]
    assert runs and all(r["threads"] == 1 and len(r["process_p50_ms"]) == 1 for r in runs)
    assert doc["settings"]["processes"] == 1


def test_benchmark_takes_its_defaults_from_the_matrix_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    import fitedge.bench.benchmark
    from fitedge.bench.host.settings import MatrixSettings

    seen = []
    monkeypatch.setattr(fitedge.bench.benchmark, "run_benchmark", lambda config, exporter: seen.append(config) or {})
    fitedge.benchmark("tiny", export_models=False)
    fitedge.benchmark("tiny", seconds=[1.0, 2.0], iters=3, export_models=False)
    assert [c.matrix for c in seen] == [MatrixSettings(), MatrixSettings(seconds=(1.0, 2.0), iters=3)]
    with pytest.raises(TypeError):
        fitedge.benchmark("tiny", warmups=1)
