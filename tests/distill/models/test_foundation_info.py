"""Model sizes and compute: the paper's parameter counts, MACs against hand counts, ``fitedge info``."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from fitedge.audio import SAMPLE_RATE
from fitedge.cli import cli
from fitedge.distill.checkpoints.folder import save_checkpoint
from fitedge.distill.models.attention import SelfAttention
from fitedge.distill.models.config import PRESETS
from fitedge.distill.models.encoder import build_encoder
from fitedge.distill.models.profile import count_macs, profile_config, profile_encoder


def test_fithubert_and_hubert_base_parameter_counts():
    fit = profile_config(PRESETS["fithubert"], 1.0)
    hubert = profile_config(PRESETS["hubert-base"], 1.0)
    assert fit.params == 21_200_096 and hubert.params == 94_370_944
    assert fit.folded_params == fit.params - 128
    assert fit.reported_params == 22_492_064
    assert fit.reported_parts == {"backbone": 21_200_096, "final hint head": 830_688, "unused upsampler": 461_280}
    assert hubert.reported_params is None
    # fithubert.md's breakdown, block by block.
    assert {b.name: b.params for b in fit.blocks} == {
        "feature extractor": 2_000_384, "feature projection": 247_264, "positional conv": 1_843_808,
        "encoder layer norm": 960, "time reduction": 461_280, "layers 1-12 (12 x)": 16_646_400,
    }


def test_macs_of_one_conv_one_linear_and_attention_by_hand():
    conv = nn.Conv1d(4, 6, kernel_size=3, stride=2, groups=2)
    # 11 samples -> (11 - 3) // 2 + 1 = 5 frames; each of 6 x 5 outputs sums 4/2 channels x 3 taps.
    assert sum(count_macs(conv, torch.zeros(1, 4, 11)).values()) == 6 * 5 * 2 * 3
    linear = nn.Linear(5, 7)
    assert sum(count_macs(linear, torch.zeros(2, 3, 5)).values()) == 2 * 3 * 7 * 5
    up = nn.ConvTranspose1d(4, 6, kernel_size=2, stride=2)
    assert sum(count_macs(up, torch.zeros(1, 4, 5)).values()) == 4 * 5 * 6 * 2
    attention = SelfAttention(dim=8, heads=2)
    macs = count_macs(attention, torch.zeros(1, 5, 8))
    assert macs[""] == 2 * 5 * 5 * 8  # q @ k and probs @ v
    assert sum(macs.values()) == 4 * 5 * 8 * 8 + 2 * 5 * 5 * 8  # + q, k, v, out projections


def test_feature_extractor_macs_match_a_hand_count_and_meta_matches_real():
    config = PRESETS["tiny"].replace(time_reduction="conv1d")
    samples = 8000
    expected, frames, in_ch = 0, samples, 1
    for out_ch, kernel, stride in config.conv_layers:
        frames = (frames - kernel) // stride + 1
        expected += frames * out_ch * in_ch * kernel
        in_ch = out_ch
    meta = profile_config(config, samples / SAMPLE_RATE)
    blocks = {b.name: b for b in meta.blocks}
    assert blocks["feature extractor"].macs == expected
    t = frames // 2
    assert blocks["time reduction"].macs == t * config.dim * config.dim * 2
    real = profile_encoder(build_encoder(config), samples / SAMPLE_RATE)
    assert real.macs == meta.macs and real.params == meta.params and meta.frames == t
    assert meta.flops == 2 * meta.macs


def test_info_cli_compares_fithubert_with_hubert_base(runner):
    result = runner.invoke(cli, ["info", "fithubert", "hubert-base", "--seconds", "1"])
    assert result.exit_code == 0, result.output
    out = result.output
    for text in ("21,200,096", "94,370,944", "22,492,064", "830,688", "461,280", "23.8%", "22.5%",
                 "25 frames/s", "50 frames/s", "layers 1-12 (12 x)"):
        assert text in out
    assert "comparison (ratios to hubert-base" in out


def test_info_cli_json(runner):
    result = runner.invoke(cli, ["info", "tiny", "fithubert", "--seconds", "2", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    tiny, fit = doc["models"]
    assert tiny["params"] == build_encoder(PRESETS["tiny"]).num_parameters()
    assert tiny["frames"] == PRESETS["tiny"].num_frames(32000) and fit["frames"] == 49
    assert fit["flops"] == 2 * fit["macs"] and fit["config"]["dim"] == 480
    assert doc["comparison"]["reference"] == "fithubert"
    assert doc["comparison"]["models"][0]["params_ratio"] == pytest.approx(tiny["params"] / fit["params"])


def test_info_on_a_checkpoint_with_heads_counts_them(runner, tmp_path):
    config = PRESETS["tiny"].replace(time_reduction="conv1d")
    d, head = config.dim, f"proj_head.{config.layers - 1}"
    heads = {f"{head}.upsampler.weight": torch.zeros(d, d, 2), f"{head}.upsampler.bias": torch.zeros(d),
             f"{head}.lin_proj.weight": torch.zeros(768, d), f"{head}.lin_proj.bias": torch.zeros(768),
             "upsampler.weight": torch.zeros(d, d, 2), "upsampler.bias": torch.zeros(d)}
    save_checkpoint(build_encoder(config), tmp_path / "student", heads=heads)
    result = runner.invoke(cli, ["info", str(tmp_path / "student"), "--json"])
    assert result.exit_code == 0, result.output
    model = json.loads(result.output)["models"][0]
    head_params = sum(t.numel() for t in heads.values())
    assert model["heads_params"] == head_params
    assert model["reported_params"] == model["params"] + head_params  # final head + unused upsampler = all of them
