"""Optimiser and learning-rate schedule shared by distillation and pre-training.

The paper's recipe (fithubert.md): AdamW, betas (0.9, 0.98), eps 1e-6, weight decay 0.01 on weights but not
on biases or norms, and a linear warm-up over the first 5% of the steps followed by a linear decay to 0.

The schedule counts steps, so a time limit alone would stop it part way. ``--steps auto`` fits the steps to
``--minutes`` on the machine at hand: :class:`StepBudget` times the first :data:`PROBE_STEPS` steps (run at a
near-zero learning rate, as the first steps of a long warm-up) and then fixes the total, so warm-up and decay
complete within the minutes whatever the machine's speed.
"""

from __future__ import annotations

import logging
from typing import Protocol

import torch
from torch import nn

from fitedge.errors import ConfigError

log = logging.getLogger(__name__)


class ScheduleConfig(Protocol):
    lr: float
    max_steps: int
    warmup_ratio: float


PROBE_STEPS = 10
_UNKNOWN_TOTAL = 10**9  # the schedule's length while the rate is measured: the learning rate stays near 0
_MARGIN = 0.95  # of the remaining time, for validation, checkpoints and a slower stretch


class StepBudget:
    """How many optimiser steps the schedule spans: fixed, or fitted to a time limit once the rate is measured.

    Args:
        max_steps: the total, or ``None`` to fit it to ``max_minutes``.
        max_minutes: the time limit (required when ``max_steps`` is ``None``).
    """

    def __init__(self, max_steps: int | None, max_minutes: float | None) -> None:
        if max_steps is None and not max_minutes:
            raise ConfigError("--steps auto fits the steps to --minutes: give --minutes too")
        self.total = max_steps
        self.minutes = max_minutes

    @property
    def schedule_total(self) -> int:
        """The total to schedule with now (a placeholder while the rate is being measured)."""
        return _UNKNOWN_TOTAL if self.total is None else self.total

    def due(self, step: int) -> bool:
        """Whether the total is to be fixed after ``step`` (once, after the probe steps)."""
        return self.total is None and step >= PROBE_STEPS

    def fit(self, step: int, elapsed_s: float) -> int:
        """Fix the total from the rate of the first ``step`` steps, taken in ``elapsed_s`` seconds."""
        rate = step / max(elapsed_s, 1e-6)
        self.total = max(step + 1, int(step + rate * (60 * self.minutes - elapsed_s) * _MARGIN))
        log.info("--steps auto: %.2f steps/s over the first %d steps, %d steps fit %.1f minutes", rate, step,
                 self.total, self.minutes)
        return self.total


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
