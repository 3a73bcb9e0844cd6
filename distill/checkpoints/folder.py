"""fitedge's own checkpoint folder: ``config.json`` + ``model.safetensors`` (+ ``heads.safetensors``).

Writes are atomic: the folder is assembled under a temporary name beside the target and renamed into
place, so an interrupted save never leaves a half-written checkpoint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from fitedge.distill.models.config import EncoderConfig
from fitedge.distill.models.encoder import Encoder, build_encoder
from fitedge.errors import CheckpointError, CheckpointKeyMismatch, ConfigError
from fitedge.files import atomic_folder

FORMAT = "fitedge"
FORMAT_VERSION = 1
CONFIG_FILE, WEIGHTS_FILE, HEADS_FILE = "config.json", "model.safetensors", "heads.safetensors"

# Weight-norm parametrisation (training) and its folded weight (inference) of the positional conv.
_FOLDED = "encoder.pos_conv_embed.conv.weight"


@dataclass
class Checkpoint:
    """Everything a checkpoint holds: the config, the backbone weights, optional extra heads, metadata."""

    config: EncoderConfig
    state_dict: dict[str, torch.Tensor]
    heads: dict[str, torch.Tensor] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def build(self) -> Encoder:
        """An :class:`Encoder` holding these weights (strict: every key must fit)."""
        encoder = build_encoder(self.config)
        if _FOLDED in self.state_dict:
            encoder.fold_weight_norm()
        load_strict(encoder, self.state_dict, self.meta.get("source", "checkpoint"))
        return encoder


def load_strict(module: torch.nn.Module, state_dict: dict[str, torch.Tensor], source: str) -> None:
    """Load ``state_dict`` into ``module``, raising one clear error for missing, unexpected or mis-shaped keys."""
    own = module.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    if missing or unexpected:
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected)):
            if keys:
                parts.append(f"{label} {keys[0]}" + (f" (+{len(keys) - 1} more)" if len(keys) > 1 else ""))
        raise CheckpointKeyMismatch(f"{source}: {'; '.join(parts)}")
    for k, v in own.items():
        if v.shape != state_dict[k].shape:
            raise CheckpointKeyMismatch(
                f"{source}: {k} has shape {tuple(state_dict[k].shape)}, the config expects {tuple(v.shape)}")
    module.load_state_dict(state_dict, strict=True)


def is_fitedge_folder(path: Path) -> bool:
    cfg = path / CONFIG_FILE
    if not (path.is_dir() and cfg.is_file() and (path / WEIGHTS_FILE).is_file()):
        return False
    try:
        return json.loads(cfg.read_text()).get("format") == FORMAT
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return False


def save_checkpoint(encoder: Encoder, out_dir: str | Path, heads: dict[str, torch.Tensor] | None = None,
                    meta: dict[str, Any] | None = None, overwrite: bool = True) -> Path:
    """Write ``encoder`` (and ``heads``) as a fitedge checkpoint folder, atomically."""
    out = Path(out_dir)
    if out.exists() and not overwrite:
        raise CheckpointError(f"{out} exists; pass overwrite to replace it")
    with atomic_folder(out, mode=0o755) as tmp:
        doc = {"format": FORMAT, "format_version": FORMAT_VERSION, "encoder": encoder.config.to_dict(), **(meta or {})}
        (tmp / CONFIG_FILE).write_text(json.dumps(doc, indent=2) + "\n")
        state = {k: v.detach().contiguous().cpu() for k, v in encoder.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS_FILE), metadata={"format": FORMAT})
        if heads:
            save_file({k: v.detach().contiguous().cpu() for k, v in heads.items()}, str(tmp / HEADS_FILE))
    return out


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Read a fitedge checkpoint folder."""
    folder = Path(path)
    try:
        doc = json.loads((folder / CONFIG_FILE).read_text())
        config = EncoderConfig.from_dict(doc.pop("encoder"))
    except (OSError, json.JSONDecodeError, KeyError, ConfigError, TypeError) as e:
        raise CheckpointError(f"{folder / CONFIG_FILE}: not a readable fitedge config ({e})") from None
    state = read_safetensors(folder / WEIGHTS_FILE)
    heads = read_safetensors(folder / HEADS_FILE) if (folder / HEADS_FILE).is_file() else {}
    doc.pop("format", None)
    doc.pop("format_version", None)
    return Checkpoint(config, state, heads, {"source": str(folder), **doc})


def read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """Load a safetensors file, turning a corrupted or truncated one into a :class:`CheckpointError`."""
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path}: corrupted or truncated safetensors file ({e})") from None
