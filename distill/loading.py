"""Resolve what a user names (a preset or a checkpoint path) to an :class:`Encoder`."""

from __future__ import annotations

from pathlib import Path

from fitedge.distill.checkpoint import Checkpoint
from fitedge.distill.config import PRESETS
from fitedge.distill.encoder import Encoder, build_encoder
from fitedge.errors import CheckpointError


def read_source(source: str | Path, format: str | None = None) -> Checkpoint | None:
    """The checkpoint behind ``source``, or ``None`` when ``source`` is a preset name."""
    if format is None and str(source) in PRESETS and not Path(source).exists():
        return None
    path = Path(source)
    if not path.exists():
        raise CheckpointError(f"{source}: no such file or folder, and not a preset ({', '.join(PRESETS)})")
    from fitedge.distill.importers import import_checkpoint

    return import_checkpoint(path, format=format)


def load_encoder(source: str | Path, format: str | None = None) -> Encoder:
    """Build the encoder named by ``source``; ``encoder.meta`` says where it came from and if it is trained."""
    checkpoint = read_source(source, format)
    if checkpoint is None:
        encoder = build_encoder(PRESETS[str(source)])
        encoder.meta = {"source": f"preset:{source}", "trained": False}
        return encoder
    encoder = checkpoint.build()
    encoder.meta = {"trained": True, **checkpoint.meta}
    return encoder
