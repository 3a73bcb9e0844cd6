"""The deployment-friendly front end (``frame_layer_norm``, ``relu``): same parameters as the family's, a per-frame
norm, ReLU in place of GELU, and an export that carries the int8-aware record into the manifest."""

from __future__ import annotations

import torch
from torch import nn

import fitedge
from fitedge.distill.checkpoints.folder import save_checkpoint
from fitedge.distill.models.config import preset
from fitedge.distill.models.conv_frontend import ChannelLayerNorm
from fitedge.distill.models.encoder import build_encoder
from fitedge.edge.bundle.manifest import read_bundle_manifest


def test_edge_presets_keep_the_parameter_names_and_shapes_of_their_base() -> None:
    for base in ("tiny", "fithubert"):
        plain, edge = build_encoder(preset(base)).state_dict(), build_encoder(preset(f"{base}-edge")).state_dict()
        assert {k: v.shape for k, v in plain.items()} == {k: v.shape for k, v in edge.items()}
    first = build_encoder(preset("tiny-edge")).feature_extractor.conv_layers[0]
    assert isinstance(first.layer_norm, ChannelLayerNorm) and isinstance(first.activation, nn.ReLU)
    assert isinstance(build_encoder(preset("tiny")).feature_extractor.conv_layers[0].activation, nn.GELU)


def test_the_edge_front_end_normalises_each_frame_on_its_own() -> None:
    torch.manual_seed(0)
    wav = torch.randn(1, 8000) * 0.1
    for name, per_frame in (("tiny-edge", True), ("tiny", False)):
        extractor = build_encoder(preset(name)).eval().feature_extractor
        with torch.no_grad():
            whole, _ = extractor(wav)
            half, _ = extractor(wav[:, :4000])
        same = torch.allclose(whole[:, : half.shape[1] - 1], half[:, :-1], atol=1e-5)
        assert same == per_frame, name  # GroupNorm's statistics span the whole input; the frame norm's do not


def test_an_int8_aware_edge_checkpoint_exports_to_onnx_and_says_so(tmp_path) -> None:
    torch.manual_seed(0)
    record = {"recipe": "test", "from": 0.5, "trained_int8_aware": True, "activation_ranges": {"x": {}}}
    source = save_checkpoint(build_encoder(preset("tiny-edge")), tmp_path / "student", meta={"int8_aware": record})
    manifest = fitedge.export(source, tmp_path / "bundle", targets=("onnx",), precisions=("fp32", "int8"),
                              seconds=1.0, int8="plain", calib_windows=2, timing_runs=1)
    assert manifest["model"]["int8_aware"] == {"recipe": "test", "from": 0.5, "trained_int8_aware": True}
    assert read_bundle_manifest(tmp_path / "bundle")["model"]["config"]["conv_activation"] == "relu"
    assert {a["precision"] for a in manifest["artifacts"]} == {"fp32", "int8"}
