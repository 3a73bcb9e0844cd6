"""fitedge's own checkpoint folder: ``config.json`` + ``model.safetensors`` (+ ``heads.safetensors``).

It lives with the models, not with the importers in ``distill.checkpoints``, so that
:meth:`Encoder.save_pretrained` and :meth:`Encoder.from_pretrained` can use it: the checkpoints package imports
the models, and a dependency back would be a cycle. The importers reach the format through
:mod:`fitedge.distill.checkpoints.folder`.

Writes are atomic: the folder is assembled under a temporary name beside the target and renamed into
place, so an interrupted save never leaves a half-written checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from fitedge.distill.models.config import EncoderConfig
from fitedge.distill.models.encoder import Encoder, build_encoder
from fitedge.errors import CheckpointError, CheckpointKeyMismatch, ConfigError
from fitedge.files import atomic_folder
from fitedge.hub import is_hub_id, snapshot

FORMAT = "fitedge"
FORMAT_VERSION = 1
CONFIG_FILE, WEIGHTS_FILE, HEADS_FILE = "config.json", "model.safetensors", "heads.safetensors"

# Weight-norm parametrisation (training) and its folded weight (inference) of the positional conv.
_FOLDED = "encoder.pos_conv_embed.conv.weight"


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


def build_with_weights(config: EncoderConfig, state_dict: dict[str, torch.Tensor], source: str) -> Encoder:
    """An :class:`Encoder` of ``config`` holding ``state_dict`` (strict: every key must fit), folded or not."""
    encoder = build_encoder(config)
    if _FOLDED in state_dict:
        encoder.fold_weight_norm()
    load_strict(encoder, state_dict, source)
    return encoder


def is_fitedge_folder(path: Path) -> bool:
    cfg = path / CONFIG_FILE
    if not (path.is_dir() and cfg.is_file() and (path / WEIGHTS_FILE).is_file()):
        return False
    try:
        return json.loads(cfg.read_text()).get("format") == FORMAT
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return False


def save_checkpoint(encoder: Encoder, out_dir: str | Path, heads: dict[str, torch.Tensor] | None = None,
                    meta: dict[str, Any] | None = None, overwrite: bool = True,
                    weights: dict[str, torch.Tensor] | None = None) -> Path:
    """Write ``encoder`` (and ``heads``) as a fitedge checkpoint folder, atomically; ``weights``: its state dict,
    when not ``encoder.state_dict()`` (a student with training-only modules attached)."""
    out = Path(out_dir)
    if out.exists() and not overwrite:
        raise CheckpointError(f"{out} exists; pass overwrite to replace it")
    with atomic_folder(out, mode=0o755) as tmp:
        doc = {"format": FORMAT, "format_version": FORMAT_VERSION, "encoder": encoder.config.to_dict(), **(meta or {})}
        (tmp / CONFIG_FILE).write_text(json.dumps(doc, indent=2) + "\n")
        state = {k: v.detach().contiguous().cpu() for k, v in (weights or encoder.state_dict()).items()}
        save_file(state, str(tmp / WEIGHTS_FILE), metadata={"format": FORMAT})
        if heads:
            save_file({k: v.detach().contiguous().cpu() for k, v in heads.items()}, str(tmp / HEADS_FILE))
    return out


def read_folder(path: str | Path) -> tuple[EncoderConfig, dict[str, torch.Tensor], dict[str, torch.Tensor],
                                           dict[str, Any]]:
    """A fitedge checkpoint folder's config, weights, heads and metadata (the rest of its ``config.json``)."""
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
    return config, state, heads, doc


def read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """Load a safetensors file, turning a corrupted or truncated one into a :class:`CheckpointError`."""
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path}: corrupted or truncated safetensors file ({e})") from None


def save_pretrained(encoder: Encoder, directory: str | Path, heads: dict[str, torch.Tensor] | None = None) -> Path:
    """:meth:`Encoder.save_pretrained`: the folder, with ``encoder.meta`` (trained or not, seed, origin) kept."""
    # "source" names where the weights were read from; the folder written is their source from now on.
    meta = {k: v for k, v in encoder.meta.items() if k != "source"}
    return save_checkpoint(encoder, directory, heads=heads, meta=meta)


def from_pretrained(source: str | Path) -> Encoder:
    """:meth:`Encoder.from_pretrained`: a fitedge folder, or a Hugging Face id whose snapshot is one."""
    folder = snapshot(str(source)) if is_hub_id(source) else Path(source)
    if not is_fitedge_folder(folder):
        raise CheckpointError(f"{source}: not a fitedge checkpoint folder ({CONFIG_FILE} with \"format\": "
                              f"\"{FORMAT}\" and {WEIGHTS_FILE}); fitedge.load reads the other formats")
    config, state, _heads, doc = read_folder(folder)
    encoder = build_with_weights(config, state, str(folder))
    encoder.meta = {"trained": True, "source": str(folder), **doc}
    return encoder
