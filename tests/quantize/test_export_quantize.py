"""int8 on a trained-looking model, and the per-block sensitivity report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from fitedge.audio import SAMPLE_RATE
from fitedge.distill.checkpoints.folder import save_checkpoint
from fitedge.distill.data.mfcc import mfcc_features
from fitedge.distill.models.config import preset
from fitedge.distill.models.encoder import build_encoder
from fitedge.edge.export.options import ExportOptions
from fitedge.edge.export.pipeline import export_bundle
from fitedge.edge.export.verify import verify_bundle
from fitedge.quantize.auto.sensitivity import BlockSensitivity, worth_keeping_float
from fitedge.quantize.calibration import builtin_speech, windows
from tests.helpers.cli import run_cli

NO_DROPOUT = {"dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0, "feature_dropout": 0.0}


def train_tiny_on_mfcc(folder: Path, steps: int = 40) -> list[float]:
    """A few Adam steps teaching ``tiny`` to predict MFCCs of real (espeak-ng) speech: weights with structure."""
    torch.manual_seed(0)
    encoder = build_encoder(preset("tiny").replace(**NO_DROPOUT))
    head = nn.Linear(encoder.config.dim, 39)
    clips = windows(builtin_speech()[:6], SAMPLE_RATE, 8, 1600)
    wav = torch.from_numpy(np.stack(clips))
    frames = encoder.config.num_frames(SAMPLE_RATE)
    targets = torch.from_numpy(np.stack([mfcc_features(c)[:frames] for c in clips])).float()
    targets = (targets - targets.mean((0, 1))) / targets.std((0, 1))
    optimizer = torch.optim.Adam([*encoder.parameters(), *head.parameters()], lr=2e-3)
    losses = []
    for step in range(steps):
        batch = slice((step * 4) % len(clips), (step * 4) % len(clips) + 4)
        loss = nn.functional.mse_loss(head(encoder(wav[batch]).last_hidden_state), targets[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    save_checkpoint(encoder, folder)
    return losses


def test_int8_of_a_trained_model_stays_above_the_threshold(tmp_path: Path) -> None:
    losses = train_tiny_on_mfcc(tmp_path / "trained")
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5]), "the model did not learn anything"
    options = ExportOptions(targets=("onnx", "tflite"), precisions=("int8",), seconds=1.0, calib_windows=4,
                            timing_runs=0, litert_int8="static")  # both with static (calibrated) activations
    doc = export_bundle(tmp_path / "trained", tmp_path / "bundle", options)
    assert doc["model"]["trained"] is True
    tflite = next(a for a in doc["artifacts"] if a["runtime"] == "litert")
    assert tflite["recipe"] == "pt2e-litert-static-per-channel" and tflite["input_quantization"] is None
    for artifact in doc["artifacts"]:
        assert artifact["parity"]["cosine"] >= 0.98 and artifact["parity"]["passed"] is True, artifact
        assert artifact["parity"]["snr_db"] > 10
    assert all(check.ok for check in verify_bundle(tmp_path / "bundle"))


def test_min_cosine_gate_fails_or_flags(tmp_path: Path) -> None:
    base = ("export", "tiny", "--targets", "onnx", "--precision", "int8", "--seconds", "0.5", "--calib-windows", "2",
            "--timing-runs", "0", "--min-cosine", "0.999999")
    failed = run_cli(*base, "--out", str(tmp_path / "strict"))
    assert failed.exit_code == 1 and "below --min-cosine 0.999999" in failed.output
    assert not (tmp_path / "strict").exists()
    kept = run_cli(*base, "--out", str(tmp_path / "lenient"), "--allow-degraded")
    assert kept.exit_code == 0, kept.output
    entry = json.loads((tmp_path / "lenient" / "manifest.json").read_text())["artifacts"][0]
    assert entry["parity"]["passed"] is False and entry["parity"]["cosine"] < 0.999999
    assert run_cli("verify", str(tmp_path / "lenient")).exit_code == 0  # flagged at export, not a verify failure


@pytest.mark.parametrize("reduction", [None, "conv1d"])
def test_sensitivity_reports_every_block(tmp_path: Path, reduction: str | None) -> None:
    torch.manual_seed(0)
    # 5 blocks (6 with the time reduction) keep it quick
    small = preset("tiny").replace(conv_layers=((32, 10, 5), (32, 8, 64)), layers=1, time_reduction=reduction)
    save_checkpoint(build_encoder(small), tmp_path / "small")
    result = run_cli("quantize", "sensitivity", str(tmp_path / "small"), "--seconds", "0.5", "--calib-windows", "2",
                     "--json", "--out", str(tmp_path / "sensitivity.json"))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert json.loads((tmp_path / "sensitivity.json").read_text()) == report
    blocks = [b["block"] for b in report["blocks"]]
    reduced = ["encoder.time_reduction"] if reduction else []
    assert blocks == ["feature_extractor.conv_layers.0", "feature_extractor.conv_layers.1", "feature_projection",
                      "encoder.pos_conv_embed", *reduced, "encoder.layers.0"]
    cosines = [b["cosine"] for b in report["blocks"]]
    assert all(0.5 < c < 1.0 for c in cosines), cosines  # each block alone costs something, none ruins the output
    keep = report["keep_float"]
    assert set(keep) < set(blocks)  # the least harmful block is the yardstick, never flagged itself
    flagged = [b["cosine"] for b in report["blocks"] if b["block"] in keep]
    spared = [b["cosine"] for b in report["blocks"] if b["block"] not in keep]
    assert not flagged or max(flagged) < min(spared)


def test_a_uniformly_fragile_front_end_is_flagged_whole() -> None:
    """Eight equally fragile convs all stand out against the harmless blocks (a median yardstick saw none)."""
    results = [BlockSensitivity(f"conv{i}", 0.75, 3.0) for i in range(8)]
    results += [BlockSensitivity(f"layer{i}", 0.995 - 0.001 * i, 20.0) for i in range(6)]
    results.append(BlockSensitivity("conv_worst", 0.70, 2.5))
    keep = worth_keeping_float(results)
    assert keep[0] == "conv_worst" and set(keep) == {"conv_worst", *(f"conv{i}" for i in range(8))}
