"""The full training state of a distillation run, saved atomically so that ``--resume`` continues exactly.

One file, ``RUN_DIR/train_state.pt``: the student and its heads, the optimiser, the AMP grad scaler, the
position (step, epoch, batches done in the epoch: the sampler skips those on resume), the early-stopping
record, the RNG states of every rank (python, numpy, torch, CUDA) and the config. It is written to a
temporary name and renamed, so a crash mid-save leaves the previous state intact. It holds only tensors and
plain containers and is read back with ``weights_only=True``.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fitedge.errors import CheckpointError
from fitedge.files import atomic_file

STATE_FILE = "train_state.pt"


@dataclass
class Position:
    """Where training stands; ``batches_in_epoch`` counts this rank's micro-batches of the current epoch."""

    step: int = 0
    epoch: int = 0
    batches_in_epoch: int = 0
    audio_seconds: float = 0.0  # audio seen so far, all ranks
    best_valid: float = float("inf")  # best last-layer validation loss
    bad_validations: int = 0  # validations in a row without improvement
    train_seconds: float = 0.0  # training time so far, across resumed runs (``--steps auto`` schedules by it)


def capture_rng() -> dict[str, Any]:
    """This process's RNG states as tensors and plain values (nothing that ``weights_only`` refuses)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {"python": random.getstate(), "torch": torch.get_rng_state(),
             "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                       "has_gauss": int(has_gauss), "gauss": float(gauss)}}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    random.setstate(_as_tuple(state["python"]))
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_train_state(run_dir: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                     scaler: torch.amp.GradScaler, position: Position, rng: list[dict[str, Any]],
                     config: dict[str, Any]) -> Path:
    """Write the training state atomically (temporary file in ``run_dir``, then rename)."""
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scaler": scaler.state_dict(),
             "position": dataclasses.asdict(position), "rng": rng, "config": config}
    path = Path(run_dir) / STATE_FILE
    with atomic_file(path) as tmp:
        torch.save(state, tmp)
    return path


def load_train_state(run_dir: Path) -> dict[str, Any]:
    """The state written by :func:`save_train_state`; ``position`` comes back as a :class:`Position`."""
    path = Path(run_dir) / STATE_FILE
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        state["position"] = Position(**state["position"])
    except (OSError, RuntimeError, KeyError, TypeError, EOFError) as e:
        raise CheckpointError(f"{path}: cannot resume from this training state ({e})") from None
    return state


def _as_tuple(value: Any) -> Any:
    """``random.setstate`` wants nested tuples; a round trip through ``torch.load`` may hand back lists."""
    return tuple(_as_tuple(v) for v in value) if isinstance(value, list | tuple) else value
