"""Optimiser and learning-rate schedule shared by distillation and pre-training.

The paper's recipe (fithubert.md): AdamW, betas (0.9, 0.98), eps 1e-6, weight decay 0.01 on weights but not
on biases or norms, and a linear warm-up over the first 5% of the steps followed by a linear decay to 0.
"""

from __future__ import annotations

import logging
from typing import Protocol

import torch
from torch import nn

log = logging.getLogger(__name__)


class ScheduleConfig(Protocol):
    lr: float
    max_steps: int
    warmup_ratio: float


def lr_at(step: int, cfg: ScheduleConfig) -> float:
    """Learning rate of optimiser step ``step`` (0-based): linear warm-up to ``cfg.lr``, then linear decay to 0."""
    warmup = max(1, round(cfg.warmup_ratio * cfg.max_steps))
    if step < warmup:
        return cfg.lr * (step + 1) / warmup
    remaining = max(1, cfg.max_steps - warmup)
    return cfg.lr * max(0.0, (cfg.max_steps - step) / remaining)


def warn_if_cut_short(step: int, cfg: ScheduleConfig) -> None:
    """Say so when a time limit stopped a run long before its schedule ended (the rate never decayed)."""
    warmup = max(1, round(cfg.warmup_ratio * cfg.max_steps))
    if step < warmup:
        log.warning("stopped at step %d, still warming up (%d warm-up steps of %d): the learning rate never reached "
                    "its peak; give --steps that fit the time limit", step, warmup, cfg.max_steps)
    elif step < 0.5 * cfg.max_steps:
        log.warning("stopped at step %d of %d: the learning rate was still at %.0f%% of its peak; give --steps that "
                    "fit the time limit", step, cfg.max_steps, 100 * lr_at(step, cfg) / cfg.lr)


def build_optimizer(model: nn.Module, lr: float, betas: tuple[float, float], eps: float,
                    weight_decay: float) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices and kernels only: 1-D tensors (biases, norm scales) are not decayed."""
    decay, no_decay = [], []
    for param in model.parameters():
        if param.requires_grad:
            (decay if param.dim() >= 2 else no_decay).append(param)
    log.info("optimiser: %d decayed tensors, %d not decayed", len(decay), len(no_decay))
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
