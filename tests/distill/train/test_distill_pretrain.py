"""HuBERT-style pre-training of the small teacher: MFCC units, span masking, purity scores, and that it learns."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import fitedge
from fitedge.distill.data.datasets import list_audio
from fitedge.distill.data.mfcc import MFCC_DIM, mfcc_features
from fitedge.distill.models.config import preset
from fitedge.distill.train.masking import span_mask
from fitedge.distill.train.pretraining import PretrainConfig, pretrain
from fitedge.distill.train.purity import purity_scores, uniform_phone_frames
from tests.helpers.speech import write_speech


@pytest.mark.parametrize("samples", [400, 1000, 16000, 16321, 48000])
def test_mfcc_labels_fall_on_the_encoder_frames(samples: int) -> None:
    feats = mfcc_features(np.random.default_rng(0).standard_normal(samples).astype(np.float32) * 0.1)
    assert feats.shape == (preset("tiny").num_frames(samples), MFCC_DIM)


def test_span_mask_starts_about_the_asked_share_and_stays_inside_the_utterance() -> None:
    g = torch.Generator().manual_seed(0)
    mask = span_mask(torch.tensor([400, 250]), 400, start_prob=0.08, span=10, generator=g)
    assert not mask[1, 250:].any()
    starts = (mask[0, 1:] & ~mask[0, :-1]).sum().item() + int(mask[0, 0])
    assert 0.3 < mask[0].float().mean().item() < 0.8  # 32 spans of 10 overlapping: about half masked
    assert 15 <= starts <= 32  # merged overlapping spans count once
    again = span_mask(torch.tensor([400, 250]), 400, 0.08, 10, torch.Generator().manual_seed(0))
    assert torch.equal(mask, again)


def test_purity_and_pnmi_match_a_hand_computation() -> None:
    units = np.array([0, 0, 1, 1])
    phones = np.array([0, 0, 0, 1])
    report = purity_scores(units, phones)
    assert report.cluster_purity == pytest.approx(0.75) and report.phone_purity == pytest.approx(0.75)
    # I = sum p(u,f) log p(u,f) / (p(u) p(f)); H(phone) = -(3/4 log 3/4 + 1/4 log 1/4)
    mi = 0.5 * math.log(0.5 / (0.5 * 0.75)) + 0.25 * math.log(0.25 / (0.5 * 0.75)) + 0.25 * math.log(0.25 / 0.125)
    h = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert report.pnmi == pytest.approx(mi / h)
    assert purity_scores(np.array([3, 1, 2]), np.array([0, 1, 2])).pnmi == pytest.approx(1.0)


def test_uniform_phone_frames_spread_phonemes_over_the_speech_only() -> None:
    wav = np.zeros(32000, dtype=np.float32)
    wav[8000:24000] = np.sin(np.arange(16000) * 0.3).astype(np.float32)  # speech from 0.5 s to 1.5 s
    labels = uniform_phone_frames(wav, [7, 8], num_frames=99)
    speech = np.flatnonzero(labels >= 0)
    assert 23 <= speech[0] <= 25 and 73 <= speech[-1] <= 75
    assert set(labels[speech]) == {7, 8} and (labels[speech] == 7).sum() == pytest.approx(len(speech) / 2, abs=1)


@pytest.mark.slow
def test_pretraining_loss_falls_on_a_tiny_corpus(tmp_path) -> None:
    torch.set_num_threads(1)
    write_speech(tmp_path / "speech", count=8, seconds=1.5)
    items = list_audio(tmp_path / "speech")
    # Some weight on the unmasked frames (fairseq's pred_nomask_weight) makes 40 steps enough to see learning.
    cfg = PretrainConfig(num_units=8, max_steps=40, batch_seconds=6.0, crop_seconds=1.5, lr=5e-3, log_every=1,
                         unmasked_weight=0.5)
    torch.manual_seed(0)
    result = pretrain(preset("tiny"), cfg, items, items[:4], tmp_path / "run")
    losses = [r["loss"] for r in result.history]
    first, last = np.mean(losses[:5]), np.mean(losses[-5:])
    assert last < 0.9 * first, f"masked-prediction loss went from {first:.3f} to {last:.3f}"
    assert result.masked_accuracy > 1.5 / cfg.num_units  # better than chance on the masked frames
    teacher = fitedge.load(result.out_dir)
    assert teacher.meta["trained"] is True and teacher.config == preset("tiny")
    assert (tmp_path / "run" / "kmeans_centroids.npy").is_file()
