"""The PER gate against real exported artifacts, and the framing of static artifacts (windows and padding)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from fitedge.audio import SAMPLE_RATE
from fitedge.bench.eval.features import artifact_features, eager_features
from fitedge.bench.eval.gate import PerGate, gate_artifacts
from fitedge.bench.eval.probe import ProbeConfig
from fitedge.distill.checkpoints.folder import save_checkpoint
from fitedge.edge.bundle.manifest import read_bundle_manifest
from fitedge.edge.export.options import ExportOptions
from fitedge.edge.export.pipeline import export_bundle
from fitedge.errors import PerGateRefused
from fitedge.quantize.auto.policy import MAX_WIDENINGS
from tests.helpers.cli import assert_one_line_error, no_leftovers, run_cli
from tests.helpers.corpus import phonetic_tiny_encoder

SECONDS = 2.0
PROBE = ProbeConfig(epochs=60, batch_size=4)
EXPORT = ExportOptions(targets=("onnx",), precisions=("fp32",), seconds=SECONDS, timing_runs=0, calib_windows=2)


@pytest.fixture(scope="module")
def setup(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("gate")
    encoder = phonetic_tiny_encoder(corpus, steps=30)
    save_checkpoint(encoder, root / "good" / "model")
    export_bundle(root / "good" / "model", root / "good_bundle", EXPORT)
    with torch.no_grad():  # damage: the feature projection zeroed, so the output no longer depends on the audio
        encoder.feature_projection.projection.weight.zero_()
    save_checkpoint(encoder, root / "bad" / "model")
    export_bundle(root / "bad" / "model", root / "bad_export", EXPORT)
    # The damaged artifact under the good bundle's name: what a broken lowering would have written.
    shutil.copytree(root / "good_bundle", root / "damaged_bundle")
    shutil.copy(root / "bad_export" / "model_fp32.onnx", root / "damaged_bundle" / "model_fp32.onnx")
    return {"model": root / "good" / "model", "good": root / "good_bundle", "damaged": root / "damaged_bundle",
            "corpus": corpus}


def test_gate_accepts_a_faithful_artifact_and_refuses_a_damaged_one(setup: dict[str, Path]) -> None:
    good = gate_artifacts(setup["good"], setup["corpus"], 2.0, reference=setup["model"], probe=PROBE)
    assert good.passed and len(good.artifacts) == 1
    reference_per = good.artifacts[0].reference_per
    assert reference_per < 0.97, reference_per  # the probe learned something from the float model
    assert abs(good.artifacts[0].increase) < 1.0  # fp32 ONNX computes what eager PyTorch computes
    good.raise_if_refused()

    bad = gate_artifacts(setup["damaged"], setup["corpus"], 2.0, reference=setup["model"], probe=PROBE)
    assert not bad.passed and bad.artifacts[0].increase > 2.0
    for result in (good.artifacts[0], bad.artifacts[0]):  # paired over the same test utterances
        low, high = (100 * v for v in result.increase_ci)
        assert low <= result.increase <= high
    assert 100 * bad.artifacts[0].increase_ci[1] > 2.0
    assert bad.artifacts[0].reference_per == pytest.approx(reference_per)  # same seeds, same float probe
    with pytest.raises(PerGateRefused, match=r"model_fp32.onnx has PER .* points vs float") as e:
        bad.raise_if_refused()
    assert "\n" not in str(e.value)


def test_static_artifact_sees_windows_and_padding_like_an_app(setup: dict[str, Path]) -> None:
    import fitedge

    source = artifact_features(setup["good"] / "model_fp32.onnx")
    window = source.framing.input_samples
    assert window == int(SECONDS * SAMPLE_RATE)
    eager = eager_features(fitedge.load(setup["model"]))
    frames = eager(np.zeros(window, dtype=np.float32)).shape[1]
    wav = np.random.default_rng(0).standard_normal(int(2.5 * window)).astype(np.float32) * 0.1

    long = source(wav)  # two full windows, then half a window zero-padded
    assert long.shape[1] == 2 * frames + frames // 2
    assert (source.stats.chunked, source.stats.padded) == (1, 1)
    np.testing.assert_allclose(long[:, :frames], eager(wav[:window]), atol=1e-3)
    np.testing.assert_allclose(long[:, frames:2 * frames], eager(wav[window:2 * window]), atol=1e-3)

    short = source(wav[: window // 4])  # a short utterance: padded to the window, a quarter of the frames kept
    assert short.shape[1] == frames // 4
    assert (source.stats.chunked, source.stats.padded) == (1, 2)


@pytest.mark.slow
def test_export_gate_records_per_in_the_manifest_or_refuses_leaving_nothing(setup: dict[str, Path],
                                                                           tmp_path: Path) -> None:
    args = ["export", str(setup["model"]), "--targets", "onnx", "--precision", "fp32", "--seconds", str(SECONDS),
            "--timing-runs", "0", "--calib-windows", "2", "--gate-per", str(setup["corpus"])]
    passed = run_cli(*args, "--out", str(tmp_path / "ok"), "--max-per-increase", "2")
    assert passed.exit_code == 0, passed.output
    doc = read_bundle_manifest(tmp_path / "ok")
    per = doc["artifacts"][0]["per"]
    assert per["passed"] and 0.0 < per["per"] < 1.0 and abs(per["increase_points"]) < 1.0
    low, high = per["increase_ci_points"]
    assert low <= per["increase_points"] <= high
    assert doc["per_gate"]["corpus"] == str(setup["corpus"])
    assert "PER gate" in (tmp_path / "ok" / "report.md").read_text()
    # No artifact can be 50 points better than its own float model: the gate must refuse, and write nothing.
    refused = run_cli(*args, "--out", str(tmp_path / "no"), "--max-per-increase", "-50")
    assert_one_line_error(refused, "PER gate", "model_fp32.onnx")
    assert no_leftovers(tmp_path, "no")


def test_int8_auto_rebuilds_an_artifact_the_gate_refuses_with_more_blocks_float(setup: dict[str, Path],
                                                                               tmp_path: Path) -> None:
    # No artifact can be 50 points better than float, so each rebuild is refused again: the export must widen
    # one block at a time, re-gate only the rebuilt artifact with the probe it already trained, and then refuse.
    options = ExportOptions(targets=("onnx",), precisions=("int8",), seconds=SECONDS, timing_runs=0,
                            calib_windows=2)
    lines: list[str] = []
    gate = PerGate(str(setup["corpus"]), max_increase=-50.0)
    with pytest.raises(PerGateRefused, match=r"model_int8.onnx has PER"):
        export_bundle(setup["model"], tmp_path / "b", options, progress=lines.append, gate=gate)
    widened = [line for line in lines if "allowed +-50; keeping" in line]
    assert 1 <= len(widened) <= MAX_WIDENINGS
    kept = [line.rsplit("keeping ", 1)[1].removesuffix(" float too") for line in widened]
    assert len(set(kept)) == len(kept)  # a new block each time
    assert sum("training the probe" in line for line in lines) == 1  # re-gated with the same probe
    assert sum("PER gate: model_int8.onnx" in line for line in lines) == len(widened) + 1
    assert not (tmp_path / "b").exists()
