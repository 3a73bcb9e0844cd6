"""Losses, hint heads, layer maps, schedule and config of distillation, checked against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fitedge.audio import SAMPLE_RATE
from fitedge.distill.models.config import preset
from fitedge.distill.models.encoder import build_encoder
from fitedge.distill.models.heads import HintHeads, StudentWithHeads, build_heads
from fitedge.distill.train.config import AMP_MODES, OBJECTIVES
from fitedge.distill.train.distillation import AMP_DTYPES, DistillConfig
from fitedge.distill.train.layer_map import check_layer_map, distilhubert_layer_map, hint_layer_map, parse_layer_map
from fitedge.distill.train.losses import OBJECTIVE_LOSSES, distilhubert_loss, frame_mask, hint_loss
from fitedge.distill.train.schedule import build_optimizer, lr_at, warn_if_cut_short
from fitedge.errors import ConfigError


def _mse(a: np.ndarray, b: np.ndarray) -> float:
    total, count = 0.0, 0
    for x, y in zip(a.ravel(), b.ravel()):
        total += (float(x) - float(y)) ** 2
        count += 1
    return total / count


def test_hint_loss_equals_hand_computation_with_teacher_cropped_to_student() -> None:
    g = torch.Generator().manual_seed(0)
    preds = [torch.randn(2, 6, 3, generator=g) for _ in range(3)]
    # The teacher has 7 frames (T = 7), the student 2 * floor(7 / 2) = 6: the target loses its last frame.
    targets = [torch.randn(2, 7, 3, generator=g) for _ in range(3)]
    out = hint_loss(preds, targets, mask=None)
    by_hand = [_mse(p.numpy(), t[:, :6].numpy()) for p, t in zip(preds, targets)]
    assert out.total.item() == pytest.approx(by_hand[2] + 0.1 * (by_hand[0] + by_hand[1]), rel=1e-6)
    assert [v.item() for v in out.per_layer] == pytest.approx(by_hand, rel=1e-6)


def test_padding_mask_keeps_padded_frames_out_of_the_loss() -> None:
    g = torch.Generator().manual_seed(1)
    pred, target = torch.randn(2, 8, 4, generator=g), torch.randn(2, 8, 4, generator=g)
    mask = frame_mask(torch.tensor([8, 5]), 8)
    noisy = pred.clone()
    noisy[1, 5:] += 100.0  # garbage on the second utterance's padded frames
    masked = hint_loss([pred], [target], mask).total
    assert hint_loss([noisy], [target], mask).total.item() == pytest.approx(masked.item(), rel=1e-6)
    assert hint_loss([noisy], [target], None).total.item() > 10 * masked.item()
    valid = torch.cat([(pred[0] - target[0]) ** 2, (pred[1, :5] - target[1, :5]) ** 2])
    assert masked.item() == pytest.approx(valid.mean().item(), rel=1e-6)


def test_distilhubert_loss_is_l1_minus_log_sigmoid_cosine_summed_over_heads() -> None:
    g = torch.Generator().manual_seed(2)
    preds = [torch.randn(1, 4, 5, generator=g) for _ in range(3)]
    targets = [torch.randn(1, 4, 5, generator=g) for _ in range(3)]
    expected = 0.0
    for p, t in zip(preds, targets):
        p, t = p[0].numpy().astype(np.float64), t[0].numpy().astype(np.float64)
        cos = (p * t).sum(1) / (np.linalg.norm(p, axis=1) * np.linalg.norm(t, axis=1))
        expected += np.abs(p - t).mean() - np.mean([math.log(1 / (1 + math.exp(-c))) for c in cos])
    assert distilhubert_loss(preds, targets, None).total.item() == pytest.approx(expected, rel=1e-5)


def test_hint_heads_use_the_official_key_names_and_undo_time_reduction() -> None:
    student = build_encoder(preset("tiny").replace(dim=32, heads=4, ffn_dim=32, time_reduction="conv1d"))
    heads = build_heads(student, teacher_dim=48, layer_map=hint_layer_map(2, 2))
    model = StudentWithHeads(student, heads)
    keys = {k for k in model.state_dict() if k.startswith("proj_head.")}
    assert keys == {f"proj_head.{i}.{part}.{w}" for i in (0, 1) for part in ("upsampler", "lin_proj")
                    for w in ("weight", "bias")}
    wav = torch.randn(2, SAMPLE_RATE)
    preds, lengths = model(wav, torch.tensor([SAMPLE_RATE, 12000]))
    teacher_frames = preset("tiny").num_frames(SAMPLE_RATE)  # 49 frames at 20 ms
    assert [tuple(p.shape) for p in preds] == [(2, 2 * (teacher_frames // 2), 48)] * 2
    assert lengths.tolist() == [2 * (preset("tiny").num_frames(n) // 2) for n in (SAMPLE_RATE, 12000)]
    no_tr = HintHeads(((1, 1),), 32, 48, factor=1)
    assert {k.split(".", 1)[1] for k in no_tr.state_dict()} == {"lin_proj.weight", "lin_proj.bias"}


def test_layer_maps() -> None:
    assert hint_layer_map(12, 12) == tuple((k, k) for k in range(1, 13))
    assert hint_layer_map(4, 12) == ((1, 3), (2, 6), (3, 9), (4, 12))
    assert distilhubert_layer_map(2, 12) == ((2, 4), (2, 8), (2, 12))
    assert parse_layer_map("1:3, 2:12") == ((1, 3), (2, 12))
    with pytest.raises(ConfigError):
        parse_layer_map("1-3")
    with pytest.raises(ConfigError, match="out of range"):
        check_layer_map(((3, 1),), student_layers=2, teacher_layers=12)


def test_schedule_warms_up_linearly_then_decays_linearly_to_zero() -> None:
    cfg = DistillConfig(lr=1e-3, max_steps=100, warmup_ratio=0.1)
    assert lr_at(0, cfg) == pytest.approx(1e-4)
    assert lr_at(4, cfg) == pytest.approx(5e-4)
    assert lr_at(9, cfg) == pytest.approx(1e-3)
    assert lr_at(10, cfg) == pytest.approx(1e-3)
    assert lr_at(55, cfg) == pytest.approx(0.5e-3)
    assert lr_at(100, cfg) == 0.0
    decay = [lr_at(s, cfg) for s in range(10, 101)]
    assert all(a > b for a, b in zip(decay, decay[1:]))


def test_a_run_cut_short_by_its_time_limit_says_so(caplog) -> None:
    with caplog.at_level("WARNING"):
        warn_if_cut_short(900, DistillConfig(max_steps=100_000))  # a time limit hit inside the warm-up
        warn_if_cut_short(1300, DistillConfig(max_steps=1400))  # nearly done: nothing to say
    assert len(caplog.records) == 1 and "still warming up" in caplog.records[0].getMessage()


def test_weight_decay_skips_biases_and_norms() -> None:
    model = build_encoder(preset("tiny"))
    opt = build_optimizer(model, 5e-4, (0.9, 0.98), 1e-6, 0.01)
    decayed, plain = opt.param_groups
    assert decayed["weight_decay"] == 0.01 and plain["weight_decay"] == 0.0
    names = {id(p): n for n, p in model.named_parameters()}
    assert all(names[id(p)].endswith("bias") or "norm" in names[id(p)] for p in plain["params"])
    assert any(names[id(p)].endswith("layer_norm.weight") for p in plain["params"])
    assert opt.defaults["betas"] == (0.9, 0.98) and opt.defaults["eps"] == 1e-6


def test_config_defaults_are_the_papers_and_bad_values_are_refused() -> None:
    cfg = DistillConfig()
    assert (cfg.lr, cfg.betas, cfg.eps, cfg.weight_decay, cfg.warmup_ratio) == (5e-4, (0.9, 0.98), 1e-6, 0.01, 0.05)
    assert DistillConfig.from_dict(DistillConfig(layer_map=((1, 2),)).to_dict()) == DistillConfig(layer_map=((1, 2),))
    for bad in ({"objective": "cosine"}, {"amp": "fp8"}, {"accum_steps": 0}, {"lr": 0.0}):
        with pytest.raises(ConfigError):
            DistillConfig(**bad)


def test_the_config_tables_name_exactly_what_the_loop_implements() -> None:
    assert tuple(OBJECTIVE_LOSSES) == OBJECTIVES and tuple(AMP_DTYPES) == AMP_MODES
