"""Validation during distillation and the early-stopping decision that follows it (main rank validates)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from fitedge.distill.checkpoints.folder import save_checkpoint
from fitedge.distill.data.datasets import AudioItem
from fitedge.distill.models.heads import StudentWithHeads
from fitedge.distill.train.batches import audio_loader
from fitedge.distill.train.distributed import DistEnv, broadcast_from_main
from fitedge.distill.train.int8_aware import Int8Aware
from fitedge.distill.train.losses import LossOutput
from fitedge.distill.train.run_log import RunLog
from fitedge.distill.train.train_state import Position

if TYPE_CHECKING:
    from fitedge.distill.train.distillation import DistillConfig

BEST = "best"  # the run's folder of the student with the lowest last-layer validation loss
LossFn = Callable[[Tensor, Tensor, nn.Module], LossOutput]
"""``(wav, lengths, model) -> LossOutput``: the trainer's loss of one batch."""


def validate_and_decide(model: StudentWithHeads, losses: LossFn, items: Sequence[AudioItem], cfg: DistillConfig,
                         env: DistEnv, pos: Position, run_log: RunLog, run_dir: Path,
                         int8_aware: Int8Aware | None = None) -> str:
    """Validate on the main rank, track the best last-layer loss, and agree on every rank whether to stop.

    The best student is saved as ``run_dir/best``; an int8-aware one with its plain float weights and its record.
    """
    stop = False
    if env.is_main:
        per_layer = validate(model, losses, items, cfg, env)
        last = per_layer[-1]
        if last < pos.best_valid:
            pos.best_valid, pos.bad_validations = last, 0
            meta: dict = {"distill": {"step": pos.step}}
            if int8_aware is not None:
                meta["int8_aware"] = int8_aware.record()
            save_checkpoint(model.student, run_dir / BEST, heads=None, meta=meta,
                            weights=None if int8_aware is None else int8_aware.float_state_dict())
        else:
            pos.bad_validations += 1
        stop = pos.bad_validations >= cfg.patience
        run_log.write({"kind": "valid", "step": pos.step, "last_layer_loss": last, "layers": per_layer,
                       "best": pos.best_valid, "bad_validations": pos.bad_validations})
    # Every rank keeps the same early-stopping record, so a resumed run decides the same way on any rank.
    pos.best_valid, pos.bad_validations, stop = broadcast_from_main((pos.best_valid, pos.bad_validations, stop), env)
    return "early_stopping" if stop else "max_steps"


def restart_best(pos: Position, run_dir: Path, env: DistEnv) -> None:
    """Forget the best validation so far: from here on the student is judged differently (with fake int8 on),
    and its losses are not comparable with the earlier ones."""
    pos.best_valid, pos.bad_validations = float("inf"), 0
    if env.is_main:
        shutil.rmtree(run_dir / BEST, ignore_errors=True)


@torch.no_grad()
def validate(model: StudentWithHeads, losses: LossFn, items: Sequence[AudioItem], cfg: DistillConfig,
             env: DistEnv) -> list[float]:
    """Per-head validation losses (utterance-weighted means over the validation audio), in eval mode."""
    model.eval()
    loader, _, _ = audio_loader(items, cfg, DistEnv(device=env.device), shuffle=False)
    sums, count = None, 0
    for wav, lengths in loader:
        terms = torch.stack(losses(wav, lengths, model).per_layer) * len(lengths)
        sums, count = terms if sums is None else sums + terms, count + len(lengths)
    model.train()
    return [float(v) / max(count, 1) for v in sums]
