"""Distillation: a student encoder learns the teacher's layer outputs (FitHuBERT's hints, or DistilHuBERT's).

:func:`distill` is the whole training loop, one plain function that runs the same on one CPU and on many GPUs
under torchrun (DDP, ``no_sync`` while accumulating; only the main rank logs, validates and saves). Defaults
are the paper's recipe (fithubert.md).
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from fitedge.distill.checkpoints.folder import save_checkpoint
from fitedge.distill.data.datasets import AudioItem
from fitedge.distill.models.encoder import Encoder
from fitedge.distill.models.heads import StudentWithHeads, build_heads
from fitedge.distill.train.batches import audio_loader
from fitedge.distill.train.config import DistillConfig
from fitedge.distill.train.distributed import DistEnv, any_rank, gather_objects, mean_over_ranks, unwrap, wrap_ddp
from fitedge.distill.train.int8_aware import Int8Aware
from fitedge.distill.train.layer_map import LayerMap, check_layer_map, distilhubert_layer_map, hint_layer_map
from fitedge.distill.train.losses import OBJECTIVE_LOSSES, LossOutput, frame_mask
from fitedge.distill.train.run_log import RunLog, progress_bar
from fitedge.distill.train.schedule import Schedule, build_optimizer, set_lr, warn_if_cut_short
from fitedge.distill.train.train_state import (
    STATE_FILE,
    Position,
    capture_rng,
    load_train_state,
    restore_rng,
    save_train_state,
)
from fitedge.distill.train.validation import restart_best, validate_and_decide
from fitedge.errors import ConfigError

log = logging.getLogger(__name__)
AMP_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "none": None}  # by config.AMP_MODES


@dataclass
class DistillResult:
    final_dir: Path | None  # the student's fitedge checkpoint folder (heads beside it); None when interrupted
    steps: int
    stopped: str  # "max_steps", "time", "early_stopping" or "interrupted"
    best_valid: float
    skipped_audio: int


def resolve_layer_map(cfg: DistillConfig, student: Encoder, teacher: Encoder) -> LayerMap:
    s, t = student.config.layers, teacher.config.layers
    default = hint_layer_map if cfg.objective == "fithubert" else distilhubert_layer_map
    layer_map = cfg.layer_map or default(s, t)
    check_layer_map(layer_map, s, t)
    return layer_map


def distill(teacher: Encoder, student: Encoder, train: Sequence[AudioItem], valid: Sequence[AudioItem],
            cfg: DistillConfig, run_dir: str | Path, env: DistEnv, resume: bool = False,
            progress: bool = False, init_heads: dict[str, torch.Tensor] | None = None) -> DistillResult:
    """Train ``student`` (in place) on ``teacher``'s layer outputs; write checkpoints and logs to ``run_dir``.

    ``init_heads``: hint heads to start from (a finished run's ``heads.safetensors``), instead of fresh ones.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed + env.rank)  # dropout differs per rank, as in any DDP run
    layer_map = resolve_layer_map(cfg, student, teacher)
    model = StudentWithHeads(student, build_heads(student, teacher.config.dim, layer_map))
    if init_heads:
        _load_heads(model, init_heads)
    int8_aware = None if cfg.int8_aware_from is None else Int8Aware(student, cfg.int8_aware_from)
    model = model.to(env.device)
    teacher = teacher.to(env.device).eval().requires_grad_(False)
    optimizer = build_optimizer(model, cfg.lr, cfg.betas, cfg.eps, cfg.weight_decay)
    on_gpu = env.device.type == "cuda"
    scaler = torch.amp.GradScaler(env.device.type, enabled=on_gpu and cfg.amp == "fp16")
    pos = _resume(run_dir, model, optimizer, scaler, env) if resume else Position()
    ddp = wrap_ddp(model, env)
    loader, sampler, dataset = audio_loader(train, cfg, env, shuffle=True)
    run_log = RunLog(run_dir / "log.jsonl", env.is_main, append=resume)
    state_config = {"distill": cfg.to_dict(), "layer_map": [list(p) for p in layer_map]}

    def losses(wav: torch.Tensor, lengths: torch.Tensor, net: nn.Module) -> LossOutput:
        wav, lengths = wav.to(env.device, non_blocking=True), lengths.to(env.device)
        autocast = torch.autocast(env.device.type, dtype=AMP_DTYPES[cfg.amp] or torch.float32,
                                  enabled=on_gpu and cfg.amp != "none")
        with autocast:
            with torch.no_grad():
                states = teacher(wav, lengths).hidden_states
            predictions, frames = net(wav, lengths)
        mask = frame_mask(frames, predictions[0].shape[1]) if cfg.mask_padding else None
        return OBJECTIVE_LOSSES[cfg.objective](predictions, [states[t] for _, t in layer_map], mask,
                                         *_objective_weights(cfg))

    def save_state(rng_state: dict | None = None) -> None:
        # On Ctrl-C the other ranks may be anywhere, so no collectives: the main rank's RNG alone.
        rng = gather_objects(capture_rng(), env) if rng_state is None else [rng_state]
        if env.is_main:
            save_train_state(run_dir, unwrap(ddp), optimizer, scaler, pos, rng, state_config)

    schedule = Schedule(cfg, cfg.max_minutes)
    bar = progress_bar(cfg.max_steps, pos.step, progress and env.is_main)
    start, stopped, window, step_rng = time.monotonic(), "max_steps", _Window(), capture_rng()
    trained_before = pos.train_seconds

    def clock() -> float:
        """Training seconds so far, the same on every rank: with --steps auto the learning rate follows it."""
        seconds = trained_before + time.monotonic() - start
        if schedule.by_time and env.distributed:
            seconds = float(mean_over_ranks(torch.tensor([seconds], device=env.device), env).item())
        return seconds
    try:
        with _stop_at_step_boundary() as stop:
            while stopped == "max_steps" and not schedule.finished(pos.step, pos.train_seconds):
                sampler.set_epoch(pos.epoch, start_batch=pos.batches_in_epoch)
                dataset.set_epoch(pos.epoch)
                for micro in _groups(iter(loader), cfg.accum_steps):
                    pos.train_seconds = clock()
                    set_lr(optimizer, schedule.lr(pos.step, pos.train_seconds))
                    if int8_aware and int8_aware.follow(schedule.progress(pos.step, pos.train_seconds)):
                        restart_best(pos, run_dir, env)  # the best int8-aware student, not a float-trained one
                    for i, (wav, lengths) in enumerate(micro):
                        sync = i == len(micro) - 1 or not env.distributed
                        with nullcontext() if sync else ddp.no_sync():
                            out = losses(wav, lengths, ddp)
                            scaler.scale(out.total / len(micro)).backward()
                        window.add(out, float(lengths.sum()) / student.config.sample_rate)
                    scaler.unscale_(optimizer)
                    nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                    scaler.step(optimizer)
                    scaler.update()
                    optimizer.zero_grad(set_to_none=True)
                    pos.step += 1
                    pos.batches_in_epoch += len(micro)
                    step_rng = capture_rng()  # a second Ctrl-C mid-step: that step is redone from here
                    if pos.step % cfg.log_every == 0 or pos.step == cfg.max_steps:
                        record = window.flush(env, optimizer.param_groups[0]["lr"])
                        pos.audio_seconds += record["audio_seconds"]
                        run_log.write({"kind": "train", "step": pos.step, **record})
                        bar.set_postfix(loss=f"{record['loss']:.4f}", audio_s_per_s=f"{record['audio_s_per_s']:.0f}")
                    bar.update(1)
                    if valid and pos.step % cfg.valid_every == 0:
                        stopped = validate_and_decide(model, losses, valid, cfg, env, pos, run_log, run_dir, int8_aware)
                    if pos.step % cfg.save_every == 0:
                        save_state()
                    if cfg.max_minutes is not None and time.monotonic() - start > 60 * cfg.max_minutes:
                        stopped = "time"
                        if not schedule.by_time:
                            warn_if_cut_short(pos.step, cfg)
                    if any_rank(stop.requested, env):
                        stopped = "interrupted"
                        log.warning("stop requested at step %d: saving the training state to resume with --resume",
                                    pos.step)
                    if stopped != "max_steps" or schedule.finished(pos.step, pos.train_seconds):
                        break
                else:
                    pos.epoch, pos.batches_in_epoch = pos.epoch + 1, 0
            save_state()
    except KeyboardInterrupt:  # a second Ctrl-C: stop at once, keeping the last whole step
        stopped = "interrupted"
        log.warning("interrupted at step %d: saving the training state to resume with --resume", pos.step)
        save_state(step_rng)
    finally:
        bar.close()
        int8_record = int8_aware.remove() if int8_aware else None  # the student leaves with plain float weights
    final = None if stopped == "interrupted" else run_dir / "final"
    if final is not None and env.is_main:
        meta = {"distill": {**state_config, "teacher": teacher.meta.get("source"), "steps": pos.step,
                            "stopped": stopped, "best_valid_last_layer": pos.best_valid}}
        if int8_record:
            meta["int8_aware"] = int8_record
        student.meta = {"source": str(final), "trained": True}
        heads = {f"proj_head.{k}": v for k, v in model.proj_head.state_dict().items()}
        save_checkpoint(student, final, heads=heads, meta=meta)
        log.info("%s; %s", f"stopped ({stopped}) at step {pos.step}", dataset.report())
    return DistillResult(final, pos.step, stopped, pos.best_valid, dataset.skipped)


def _load_heads(model: StudentWithHeads, heads: dict[str, torch.Tensor]) -> None:
    state = {k.removeprefix("proj_head."): v for k, v in heads.items() if k.startswith("proj_head.")}
    try:
        model.proj_head.load_state_dict(state)
    except RuntimeError:
        raise ConfigError("the hint heads to start from do not fit this teacher and layer map: distil with the "
                          "teacher, objective and layer map of the run they come from") from None


def _objective_weights(cfg: DistillConfig) -> tuple[float]:
    return (cfg.intermediate_weight,) if cfg.objective == "fithubert" else (cfg.cosine_weight,)


def _resume(run_dir: Path, model: nn.Module, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler,
            env: DistEnv) -> Position:
    """Load the training state when there is one (a fresh start otherwise) and return the position."""
    if not (run_dir / STATE_FILE).is_file():
        log.info("%s: no training state to resume from; starting fresh", run_dir)
        return Position()
    state = load_train_state(run_dir)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scaler.load_state_dict(state["scaler"])
    rng = state["rng"]
    if len(rng) == env.world_size:
        restore_rng(rng[env.rank])
    else:  # saved on Ctrl-C (main rank only) or with another world size: fresh, distinct streams
        torch.manual_seed(state["position"].step * 1009 + env.rank)
        log.warning("RNG states of %d rank(s) saved, %d running: dropout will not replay exactly", len(rng),
                    env.world_size)
    log.info("resuming at step %d (epoch %d, batch %d)", state["position"].step, state["position"].epoch,
             state["position"].batches_in_epoch)
    return state["position"]


def _groups(batches: Iterator, size: int) -> Iterator[list]:
    """Consecutive lists of ``size`` micro-batches (the last one of an epoch may be shorter)."""
    group = []
    for batch in batches:
        group.append(batch)
        if len(group) == size:
            yield group
            group = []
    if group:
        yield group


class _Window:
    """Losses and audio between two log lines; :meth:`flush` averages them over micro-batches and ranks."""

    def __init__(self) -> None:
        self.sums, self.count, self.audio, self.since = None, 0, 0.0, time.monotonic()

    def add(self, out: LossOutput, audio_seconds: float) -> None:
        values = torch.stack([out.total.detach(), *[t.detach() for t in out.per_layer]]).float().cpu()
        self.sums = values if self.sums is None else self.sums + values
        self.count += 1
        self.audio += audio_seconds

    def flush(self, env: DistEnv, lr: float) -> dict[str, Any]:
        packed = torch.cat([self.sums / self.count, torch.tensor([self.audio])])
        packed = mean_over_ranks(packed.to(env.device), env).cpu()
        elapsed = time.monotonic() - self.since
        audio = float(packed[-1]) * env.world_size
        record = {"loss": float(packed[0]), "layers": [float(v) for v in packed[1:-1]], "lr": lr,
                  "audio_seconds": audio, "audio_s_per_s": audio / max(elapsed, 1e-9)}
        self.__init__()
        return record


class _StopRequest:
    """Ctrl-C or SIGTERM asks the loop to stop at the next step boundary, so the saved state is a whole step
    (a signal acted on mid-step could land between the optimiser update and the step count, and resume would
    redo that step). A second Ctrl-C stops at once."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: Any) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True


@contextmanager
def _stop_at_step_boundary() -> Iterator[_StopRequest]:
    request = _StopRequest()
    try:
        previous = {sig: signal.signal(sig, request) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: leave signals alone
        yield request
        return
    try:
        yield request
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
