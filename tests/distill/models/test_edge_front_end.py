"""The deployment-friendly front end (``frame_layer_norm``, ``relu``, ``mu_law``): same parameters as the family's, a
per-frame norm, ReLU in place of GELU, companded audio, and an export that carries the int8-aware record into the
manifest."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import fitedge
from fitedge.distill.checkpoints.folder import save_checkpoint
from fitedge.distill.models.config import EncoderConfig, preset
from fitedge.distill.models.conv_frontend import ChannelLayerNorm, MuLaw
from fitedge.distill.models.encoder import build_encoder
from fitedge.edge.bundle.manifest import read_bundle_manifest
from fitedge.errors import ConfigError


def test_deployment_presets_keep_the_parameter_names_and_shapes_of_their_base() -> None:
    for base, twin in (("tiny", "tiny-edge"), ("fithubert", "fithubert-edge"), ("fithubert", "fithubert-int8")):
        plain, edge = build_encoder(preset(base)).state_dict(), build_encoder(preset(twin)).state_dict()
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


def _int8_round_trip(x: torch.Tensor) -> torch.Tensor:
    """Per-tensor symmetric 8-bit quantize and dequantize, as a static int8 recipe treats a conv's input."""
    scale = x.abs().max() / 127
    return torch.round(x / scale).clamp(-127, 127) * scale


def _snr_db(clean: torch.Tensor, noisy: torch.Tensor) -> float:
    return 10 * math.log10(clean.pow(2).sum() / (clean - noisy).pow(2).sum())


def test_mu_law_keeps_a_quiet_frame_that_an_8bit_grid_over_raw_audio_loses() -> None:
    t = torch.arange(8000) / 16000
    loud = 0.9 * torch.sin(2 * math.pi * 220 * t)
    quiet = loud * 10 ** (-56 / 20)  # the recipe students' quietest fifth of frames
    wav = torch.cat([loud, quiet])
    mu_law = MuLaw(255)
    companded = mu_law(wav)
    rounded = _int8_round_trip(companded)
    expanded = torch.sign(rounded) * torch.expm1(rounded.abs() * math.log1p(255)) / 255  # mu-law's inverse
    raw_snr = _snr_db(quiet, _int8_round_trip(wav)[8000:])
    companded_snr = _snr_db(quiet, expanded[8000:])
    assert raw_snr < 3 < 15 < companded_snr, (raw_snr, companded_snr)
    assert torch.allclose(mu_law(torch.tensor([-1.0, 0.0, 1.0])), torch.tensor([-1.0, 0.0, 1.0]))
    assert torch.equal(mu_law(-wav), -companded)


def test_mu_law_is_a_config_field_without_parameters_that_changes_what_the_model_computes(tmp_path) -> None:
    torch.manual_seed(0)
    plain = build_encoder(preset("tiny")).eval()
    companded = build_encoder(preset("tiny").replace(mu_law=255.0)).eval()
    assert plain.feature_extractor.compand is None and isinstance(companded.feature_extractor.compand, MuLaw)
    companded.load_state_dict(plain.state_dict())  # strict: the same parameters
    wav = torch.randn(1, 8000) * 0.05
    with torch.no_grad():
        assert not torch.allclose(plain(wav)[0], companded(wav)[0], atol=1e-3)
    preset("tiny").replace(mu_law=255.0).save(tmp_path / "c.json")
    assert EncoderConfig.load(tmp_path / "c.json").mu_law == 255.0
    with pytest.raises(ConfigError, match="mu_law"):
        preset("tiny").replace(mu_law=-1.0)


def test_an_int8_aware_edge_checkpoint_with_mu_law_exports_to_onnx_and_says_so(tmp_path) -> None:
    torch.manual_seed(0)
    record = {"recipe": "test", "from": 0.5, "trained_int8_aware": True, "activation_ranges": {"x": {}}}
    edge = preset("tiny-edge").replace(mu_law=255.0)
    source = save_checkpoint(build_encoder(edge), tmp_path / "student", meta={"int8_aware": record})
    manifest = fitedge.export(source, tmp_path / "bundle", targets=("onnx",), precisions=("fp32", "int8"),
                              seconds=1.0, int8="plain", calib_windows=2, timing_runs=1)
    assert manifest["model"]["int8_aware"] == {"recipe": "test", "from": 0.5, "trained_int8_aware": True}
    config = read_bundle_manifest(tmp_path / "bundle")["model"]["config"]
    assert (config["conv_activation"], config["mu_law"]) == ("relu", 255.0)
    assert {a["precision"] for a in manifest["artifacts"]} == {"fp32", "int8"}
