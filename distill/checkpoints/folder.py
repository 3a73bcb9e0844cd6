"""fitedge's own checkpoint folder as the importers see it: a :class:`Checkpoint` (config, weights, heads, meta).

The folder format itself (``config.json`` + ``model.safetensors`` (+ ``heads.safetensors``), atomic writes,
strict loading) lives in :mod:`fitedge.distill.models.pretrained`, where ``Encoder.save_pretrained`` and
``Encoder.from_pretrained`` can use it; its names are re-exported here for the importers and for callers that
always found them here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from fitedge.distill.models.config import EncoderConfig
from fitedge.distill.models.encoder import Encoder
from fitedge.distill.models.pretrained import (
    CONFIG_FILE,
    FORMAT,
    FORMAT_VERSION,
    HEADS_FILE,
    WEIGHTS_FILE,
    build_with_weights,
    is_fitedge_folder,
    load_strict,
    read_folder,
    read_safetensors,
    save_checkpoint,
)

__all__ = ["CONFIG_FILE", "FORMAT", "FORMAT_VERSION", "HEADS_FILE", "WEIGHTS_FILE", "Checkpoint",
           "is_fitedge_folder", "load_strict", "read_checkpoint", "read_safetensors", "save_checkpoint"]


@dataclass
class Checkpoint:
    """Everything a checkpoint holds: the config, the backbone weights, optional extra heads, metadata."""

    config: EncoderConfig
    state_dict: dict[str, torch.Tensor]
    heads: dict[str, torch.Tensor] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def build(self) -> Encoder:
        """An :class:`Encoder` holding these weights (strict: every key must fit)."""
        return build_with_weights(self.config, self.state_dict, self.meta.get("source", "checkpoint"))


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Read a fitedge checkpoint folder."""
    config, state, heads, doc = read_folder(path)
    return Checkpoint(config, state, heads, {"source": str(Path(path)), **doc})
