"""StreamGeometry: the hop and receptive field computed from the config are the real model's, sample for sample."""

from __future__ import annotations

import pytest
import torch

from fitedge.distill.models.config import FITHUBERT_CONV, preset
from fitedge.distill.models.encoder import build_encoder
from fitedge.edge.stream.geometry import StreamGeometry, model_hop_and_receptive
from fitedge.errors import ConfigError
from tests.helpers.streaming import front_end

# GroupNorm normalises over the whole input, so the check runs with the per-frame LayerNorm front end.
LOCAL = {"extractor_mode": "layer_norm", "conv_bias": True}
CONFIGS = {
    "hubert conv": preset("tiny").replace(**LOCAL),
    "conv1d time reduction": preset("tiny").replace(time_reduction="conv1d", **LOCAL),
    "avgpool x3": preset("tiny").replace(time_reduction="avgpool", time_reduction_factor=3, **LOCAL),
    "fithubert conv + concat": preset("tiny").replace(
        conv_layers=tuple((16, k, s) for _, k, s in FITHUBERT_CONV), time_reduction="concat", **LOCAL),
}


@pytest.mark.parametrize("name", CONFIGS)
def test_perturbing_one_sample_changes_exactly_the_frames_whose_receptive_field_holds_it(name):
    config = CONFIGS[name]
    hop, receptive = model_hop_and_receptive(config)
    assert hop == config.frame_stride
    torch.manual_seed(0)
    encoder = build_encoder(config).for_inference()
    wav = 0.1 * torch.randn(1, 7 * hop + receptive + 123)
    base = front_end(encoder, wav)
    geometry = StreamGeometry(hop, receptive, chunk=1)
    assert base.shape[0] == geometry.frames(wav.shape[1]) == config.num_frames(wav.shape[1])
    for index in (0, hop - 1, hop, receptive - 1, receptive, 3 * hop + receptive // 2, wav.shape[1] - 1):
        moved = wav.clone()
        moved[0, index] += 1.0
        changed = (front_end(encoder, moved) - base).abs().amax(dim=1) > 1e-6
        expected = [g * hop <= index < g * hop + receptive for g in range(base.shape[0])]
        assert changed.tolist() == expected, f"sample {index}"


def test_window_length_and_latency_follow_the_contract():
    g = StreamGeometry.of_model(preset("fithubert"), chunk_ms=640, left_ms=1280, right_ms=320)
    assert (g.hop, g.receptive, g.chunk, g.left, g.right) == (640, 720, 16, 32, 8)
    assert g.window_samples == (32 + 16 + 8 - 1) * 640 + 720
    assert g.algorithmic_latency_ms == pytest.approx(1000 * ((16 + 8) * 640 + 80) / 16000)
    assert StreamGeometry.from_manifest(g.to_manifest()) == g


@pytest.mark.parametrize("kwargs, message", [
    ({"chunk_ms": 5}, "shorter than one frame"),
    ({"chunk_ms": 320, "left_ms": -20}, "must be >= 0"),
])
def test_bad_settings_are_one_line_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message) as error:
        StreamGeometry.of_model(preset("tiny"), **kwargs)
    assert "\n" not in str(error.value)


def test_a_manifest_section_that_contradicts_itself_is_refused():
    section = StreamGeometry(320, 400, 4, 6, 2).to_manifest() | {"window_samples": 4000}
    with pytest.raises(ConfigError, match="does not follow"):
        StreamGeometry.from_manifest(section)
