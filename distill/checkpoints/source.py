"""Resolve what a user names (a preset, a checkpoint path or a Hugging Face id) to an :class:`Encoder`.

A preset's random weights come from a fixed seed (:data:`PRESET_SEED` unless told otherwise), so the same
preset exports to the same bundle numbers on every run: the README's main job is reproducible.
"""

from __future__ import annotations

from pathlib import Path

import torch

from fitedge.distill.checkpoints.folder import Checkpoint
from fitedge.distill.checkpoints.infer_config import ConfigFacts
from fitedge.distill.models.config import PRESET_NOTES, PRESETS, preset
from fitedge.distill.models.encoder import Encoder, build_encoder
from fitedge.distill.models.profile import ModelProfile, profile_config
from fitedge.errors import CheckpointError
from fitedge.hub import is_hub_id

PRESET_SEED = 0


def read_source(source: str | Path, format: str | None = None, facts: ConfigFacts | None = None) -> Checkpoint | None:
    """The checkpoint behind ``source`` (a path or a Hugging Face id), or ``None`` when it is a preset name.

    ``facts`` (heads, a whole config, permission to guess) complete what a checkpoint file does not state.
    """
    if format is None and str(source) in PRESETS and not Path(source).exists():
        if facts is not None and facts.given:
            raise CheckpointError(f"{source} is a preset: heads, config and guess apply to checkpoint files")
        return None
    if not Path(source).exists() and not is_hub_id(source):
        raise CheckpointError(f"{source}: no such file or folder, not a Hugging Face id (ORG/NAME), and not a "
                              f"preset ({', '.join(PRESETS)})")
    from fitedge.distill.checkpoints.detect import import_checkpoint

    return import_checkpoint(source, format=format, facts=facts)


def build_preset(name: str, seed: int = PRESET_SEED) -> Encoder:
    """The preset ``name`` with random weights drawn from ``seed``; the global RNG is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder = build_encoder(PRESETS[name])
    encoder.meta = {"source": f"preset:{name}", "trained": False, "seed": seed}
    return encoder


def load_encoder(source: str | Path, format: str | None = None, seed: int = PRESET_SEED,
                 facts: ConfigFacts | None = None) -> Encoder:
    """Build the encoder named by ``source``; ``encoder.meta`` says where it came from and if it is trained.

    ``seed`` draws a preset's random weights; a checkpoint ignores it. ``facts`` complete what a checkpoint file
    does not state (see :class:`~fitedge.distill.checkpoints.infer_config.ConfigFacts`).
    """
    checkpoint = read_source(source, format, facts)
    if checkpoint is None:
        return build_preset(str(source), seed)
    encoder = checkpoint.build()
    encoder.meta = {"trained": True, **checkpoint.meta}
    return encoder


def profile_source(source: str, seconds: float) -> ModelProfile:
    """Profile a preset name or any checkpoint ``fitedge.load`` reads (only its config and heads are used)."""
    checkpoint = read_source(source)
    if checkpoint is None:
        note = f"preset (random weights): {PRESET_NOTES[source]}"
        return profile_config(preset(source), seconds, source, source=note)
    origin = checkpoint.meta.get("imported_from", "fitedge")
    return profile_config(checkpoint.config, seconds, source, checkpoint.heads, source=f"checkpoint from {origin}")
