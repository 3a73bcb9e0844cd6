"""Optimiser and learning-rate schedule shared by distillation and pre-training.

The paper's recipe (fithubert.md): AdamW, betas (0.9, 0.98), eps 1e-6, weight decay 0.01 on weights but not
on biases or norms, and a linear warm-up over the first 5% of the steps followed by a linear decay to 0.

A schedule that counts steps is stopped part way by a time limit on a slower machine. ``--steps auto``
schedules by training time instead (:class:`Schedule`): warm-up and decay complete within ``--minutes``
whatever the machine's speed or load, and the run reports the steps it took. (Fitting a step count to a rate
measured on the first steps was tried first; under a shared machine's changing load it mispredicted by 3x.)
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
    max_steps: int | None
    warmup_ratio: float


class Schedule:
    """The learning rate of each step, over ``max_steps`` steps or, with ``--steps auto``, over ``max_minutes``.

    By time, warm-up is the first ``warmup_ratio`` of the minutes and the rate reaches 0 at the limit, so the
    schedule completes on a slow or a busy machine as on a fast one; by steps, it is :func:`lr_at`, exactly
    reproducible. ``elapsed_s`` counts training time across resumed runs.
    """

    def __init__(self, cfg: ScheduleConfig, max_minutes: float | None) -> None:
        if cfg.max_steps is None and not max_minutes:
            raise ConfigError("--steps auto schedules the learning rate over --minutes: give --minutes too")
        self.cfg = cfg
        self.seconds = None if cfg.max_steps is not None else 60 * max_minutes

    @property
    def by_time(self) -> bool:
        return self.seconds is not None

    def lr(self, step: int, elapsed_s: float) -> float:
        if not self.by_time:
            return lr_at(step, self.cfg)
        progress, warmup = min(elapsed_s / self.seconds, 1.0), self.cfg.warmup_ratio
        if progress < warmup:
            return self.cfg.lr * progress / warmup
        return self.cfg.lr * max(0.0, (1.0 - progress) / (1.0 - warmup))

    def progress(self, step: int, elapsed_s: float) -> float:
        """The share of the schedule done, 0 to 1: of its steps or (by time) of its minutes."""
        return min(elapsed_s / self.seconds if self.by_time else step / self.cfg.max_steps, 1.0)

    def finished(self, step: int, elapsed_s: float) -> bool:
        """The schedule has ended: its steps are done, or (by time) its minutes have passed."""
        return elapsed_s >= self.seconds if self.by_time else step >= self.cfg.max_steps


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
