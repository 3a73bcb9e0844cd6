"""The training recipes as frozen dataclasses: :class:`DistillConfig` and :class:`PretrainConfig`.

They import no torch, so that the command line can show their defaults and choices as its own without loading
the training stack; the loops (:mod:`.distillation`, :mod:`.pretraining`) take them as they are.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from fitedge.distill.train.layer_map import LayerMap
from fitedge.errors import ConfigError

OBJECTIVES = ("fithubert", "distilhubert")  # FitHuBERT's hints on every layer; DistilHuBERT's 3 last-layer heads
AMP_MODES = ("fp16", "bf16", "none")  # mixed precision on GPU

INT8_AWARE_FROM = 0.5  # the share of the schedule after which `--int8-aware` turns fake int8 on

@dataclass(frozen=True)
class DistillConfig:
    """How to distil; the defaults are FitHuBERT's recipe (fithubert.md) unless a comment says otherwise."""

    objective: str = "fithubert"  # or "distilhubert" (3 heads on the last layer, L1 - log sigmoid(cos))
    layer_map: LayerMap | None = None  # (student, teacher) layer pairs; None: the objective's default map
    intermediate_weight: float = 0.1  # FitHuBERT's weight of every hint but the last
    cosine_weight: float = 1.0  # DistilHuBERT's lambda
    mask_padding: bool = True  # leave padded frames out of the loss (the official code does not; see losses.py)
    lr: float = 5e-4
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-6
    weight_decay: float = 0.01  # on weights, not on biases and norms
    warmup_ratio: float = 0.05
    max_steps: int | None = 10_000  # optimiser steps; the schedule decays to 0 here (None: fit max_minutes)
    max_minutes: float | None = None  # stop (and save) after this much training time
    batch_seconds: float = 40.0  # audio per rank per micro-batch, padding included
    crop_seconds: float | None = 15.0  # random crop of longer utterances (None: whole utterances, as the paper)
    accum_steps: int = 1  # micro-batches per optimiser step (the paper: 4, on 2 GPUs)
    grad_clip: float = 10.0  # max gradient norm (s3prl's distiller default; the paper gives none)
    amp: str = "fp16"  # the paper's; "bf16" on Ampere and later; ignored on CPU
    save_every: int = 1000  # steps between training-state checkpoints
    log_every: int = 10
    valid_every: int = 500  # steps between validations (when there is validation audio)
    patience: int = 15  # validations without a better last-layer loss before stopping early
    seed: int = 0
    num_workers: int = 0  # DataLoader workers per rank
    int8_aware_from: float | None = None  # fitedge's: fake int8 from this share of the schedule on (None: never)

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ConfigError(f"objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        if self.amp not in AMP_MODES:
            raise ConfigError(f"amp must be one of {', '.join(AMP_MODES)}, got {self.amp!r}")
        if min(self.max_steps or 1, self.accum_steps, self.save_every, self.log_every, self.valid_every) < 1:
            raise ConfigError("max_steps, accum_steps, save_every, log_every and valid_every must be >= 1")
        if self.lr <= 0 or self.batch_seconds <= 0 or self.patience < 1 or not 0 <= self.warmup_ratio < 1:
            raise ConfigError("lr and batch_seconds must be > 0, patience >= 1 and warmup_ratio in [0, 1)")
        if self.int8_aware_from is not None and not 0 <= self.int8_aware_from < 1:
            raise ConfigError(f"int8_aware_from must be in [0, 1), got {self.int8_aware_from}")
        if self.layer_map is not None:
            object.__setattr__(self, "layer_map", tuple(tuple(int(v) for v in p) for p in self.layer_map))

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        d["layer_map"] = None if self.layer_map is None else [list(p) for p in self.layer_map]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DistillConfig:
        unknown = sorted(set(d) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ConfigError(f"unknown distillation config keys: {', '.join(unknown)}")
        return cls(**{**d, "betas": tuple(d.get("betas", cls.betas))})


@dataclass(frozen=True)
class PretrainConfig:
    """Masked-prediction pre-training; defaults from fairseq's HuBERT Base iteration 1 where they apply."""

    num_units: int = 100  # k-means clusters on MFCC (fairseq: 100)
    kmeans_frames: int = 200_000  # MFCC frames given to k-means
    mask_start_prob: float = 0.08  # fraction of frames that start a masked span
    mask_span: int = 10
    final_dim: int = 256  # projection and unit-embedding width (fairseq: 256)
    logit_temp: float = 0.1
    unmasked_weight: float = 0.0  # fairseq's pred_nomask_weight: HuBERT trains on masked frames only (0)
    ctc_weight: float = 0.0  # fitedge's: CTC phoneme loss on the labelled train split (HuBERT: 0, fine-tuned later)
    lr: float = 5e-4
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-6
    weight_decay: float = 0.01
    warmup_ratio: float = 0.08  # fairseq: 32k of 400k steps
    max_steps: int | None = 2000  # None: the steps that fit max_minutes (``--steps auto``)
    max_minutes: float | None = None  # stop early (and save) once this much wall time has passed
    batch_seconds: float = 32.0  # audio per batch, padding included
    crop_seconds: float = 4.0  # random crop of longer utterances
    grad_clip: float = 10.0
    log_every: int = 25
    seed: int = 0

    def __post_init__(self) -> None:
        if self.num_units < 2 or self.mask_span < 1 or not 0 < self.mask_start_prob < 1:
            raise ConfigError("num_units >= 2, mask_span >= 1 and 0 < mask_start_prob < 1 are required")
        if (self.max_steps is not None and self.max_steps < 1) or self.batch_seconds < self.crop_seconds:
            raise ConfigError("max_steps must be >= 1 and batch_seconds at least crop_seconds")
        if self.ctc_weight < 0 or self.unmasked_weight < 0:
            raise ConfigError("ctc_weight and unmasked_weight must be >= 0")
