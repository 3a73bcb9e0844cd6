"""Tiny model configs and checkpoints: fast enough for a test, shaped like the real ones."""

from __future__ import annotations

from pathlib import Path

import torch

from fitedge.distill.checkpoints.folder import save_checkpoint
from fitedge.distill.models.config import EncoderConfig, preset
from fitedge.distill.models.encoder import build_encoder

NO_DROPOUT = {"dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0, "feature_dropout": 0.0}


def tiny_teacher(**changes) -> EncoderConfig:
    return preset("tiny").replace(**changes)


def tiny_student(**changes) -> EncoderConfig:
    """FitHuBERT-shaped in miniature: the teacher's depth, half its width, FFN = width, conv1d time reduction."""
    return preset("tiny").replace(dim=32, heads=4, ffn_dim=32, time_reduction="conv1d", **changes)


def tiny_checkpoint(folder: Path, time_reduction: str | None = None, heads: dict | None = None,
                    seed: int = 0) -> Path:
    """A fitedge checkpoint folder of the ``tiny`` preset with seeded random weights (and ``heads`` if given)."""
    torch.manual_seed(seed)
    config = preset("tiny").replace(time_reduction=time_reduction) if time_reduction else preset("tiny")
    encoder = build_encoder(config)
    return save_checkpoint(encoder, folder, heads=heads)
