"""Import fairseq ``.pt`` checkpoints, torchaudio state dicts and the official FitHuBERT Lightning ``.ckpt``.

All three name their tensors in fairseq's or torchaudio's style (:mod:`fitedge.distill.checkpoints.key_maps` renames
them) and state their architecture partly or not at all, so the config always goes through
:func:`~fitedge.distill.checkpoints.infer_config.infer_config_from_state_dict`, with whatever the file does state.

FitHuBERT heads are kept under their original names in ``Checkpoint.heads``:
``proj_head.{i}.upsampler.{weight,bias}`` (ConvTranspose1d, back to 20 ms), ``proj_head.{i}.lin_proj.{weight,bias}``
(Linear to the teacher's 768) for student layer ``i+1``, and the unused top-level ``upsampler.{weight,bias}``.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import Tensor

from fitedge.distill.checkpoints.folder import Checkpoint
from fitedge.distill.checkpoints.infer_config import ConfigFacts, fairseq_config_fields, infer_config_from_state_dict
from fitedge.distill.checkpoints.key_maps import (
    FITHUBERT_HEADS,
    key_layout,
    require_layout,
    shift_fithubert_layers,
    split_off,
    strip_prefix,
    to_fitedge_keys,
)
from fitedge.distill.models.config import PRESETS
from fitedge.errors import CheckpointError

FINETUNED_PREFIX = "w2v_encoder.w2v_model."  # fairseq wav2vec2/HuBERT fine-tuned for CTC
STUDENT_PREFIX, TEACHER_PREFIX = "student_model.", "teacher_model."


def import_fairseq(loaded: Any, path: Path, facts: ConfigFacts | None = None) -> Checkpoint:
    """A fairseq checkpoint: weights under ``model``, config under ``cfg`` (plain dicts) or ``args`` (Namespace)."""
    if not isinstance(loaded, Mapping) or not isinstance(loaded.get("model"), Mapping):
        raise CheckpointError(f"{path}: not a fairseq checkpoint (no 'model' state dict)")
    state: dict[str, Tensor] = dict(loaded["model"])
    heads: dict[str, Tensor] = {}
    if any(k.startswith(FINETUNED_PREFIX) for k in state):
        state, heads = strip_prefix(state, FINETUNED_PREFIX)
    options = fairseq_options(loaded)
    known = fairseq_config_fields(options, str(path)) if options else {}
    return _checkpoint(state, "fairseq", path, known, heads, "fairseq", facts)


def fairseq_options(loaded: Mapping[str, Any]) -> dict[str, Any]:
    """The flat fairseq model options (plus the task's ``normalize``) of a checkpoint; empty when it has none."""
    if isinstance(loaded.get("cfg"), Mapping):
        model = dict(loaded["cfg"].get("model") or {})
        task = dict(loaded["cfg"].get("task") or {})
        pretrain = model.get("w2v_args")  # a fine-tuned model keeps its pre-training config here
        if isinstance(pretrain, Mapping) and isinstance(pretrain.get("model"), Mapping):
            model, task = dict(pretrain["model"]), dict(pretrain.get("task") or task)
        return {**model, **({"normalize": task["normalize"]} if "normalize" in task else {})}
    if isinstance(loaded.get("args"), argparse.Namespace):
        return vars(loaded["args"])
    return {}


def import_state_dict(state: Mapping[str, Tensor], path: Path, layout: str,
                      facts: ConfigFacts | None = None) -> Checkpoint:
    """A bare state dict with ``layout``'s key names and no config (e.g. torchaudio's ``hubert_base``, ``wav2vec2_*``).

    The whole config comes from the tensor shapes and ``facts``.
    """
    return _checkpoint(dict(state), layout, path, {}, {}, layout, facts)


def import_fithubert(loaded: Any, path: Path, facts: ConfigFacts | None = None) -> Checkpoint:
    """The official FitHuBERT Lightning checkpoint: the student under ``student_model.``, the teacher ignored."""
    lightning = loaded.get("state_dict") if isinstance(loaded, Mapping) else None
    if not isinstance(lightning, Mapping) or not any(k.startswith(STUDENT_PREFIX) for k in lightning):
        raise CheckpointError(f"{path}: not a FitHuBERT checkpoint (no 'state_dict' with {STUDENT_PREFIX}* keys)")
    student, _teacher_and_rest = strip_prefix(dict(lightning), STUDENT_PREFIX)
    student, heads = split_off(student, FITHUBERT_HEADS)
    if require_layout(student, str(path)) != "fairseq":
        raise CheckpointError(f"{path}: the FitHuBERT student does not use fairseq key names")
    backbone, extra = to_fitedge_keys(student, "fairseq", str(path))
    if _has_time_reduction(backbone, path):
        backbone = shift_fithubert_layers(backbone)
    hyper = loaded.get("hyper_parameters")
    options = find_fairseq_options(hyper) if hyper is not None else {}
    known = fairseq_config_fields(options, str(path)) if options else {}
    config, guessed = infer_config_from_state_dict(backbone, str(path), known, base=PRESETS["fithubert"], facts=facts)
    meta = {"source": str(path), "imported_from": "fithubert", "config_guessed": guessed}
    return Checkpoint(config, backbone, {**heads, **extra}, meta)


def _has_time_reduction(backbone: Mapping[str, Tensor], path: Path) -> bool:
    """Whether ``encoder.layers.0`` is a conv1d TR layer; the code's other kinds (fc1, fc2) are refused."""
    weight = backbone.get("encoder.layers.0.weight")
    if "encoder.layers.0.0.weight" in backbone or (weight is not None and weight.dim() != 3):
        raise CheckpointError(f"{path}: FitHuBERT time reduction of type fc1/fc2 is not supported (only conv1d)")
    return weight is not None


def find_fairseq_options(tree: Any, depth: int = 0) -> dict[str, Any]:
    """The first mapping in a nested hyper-parameter tree that holds fairseq encoder options (or ``{}``)."""
    if isinstance(tree, argparse.Namespace):
        tree = vars(tree)
    if not isinstance(tree, Mapping) or depth > 4:
        return {}
    if "encoder_embed_dim" in tree or "encoder_layers" in tree:
        return dict(tree)
    for value in tree.values():
        found = find_fairseq_options(value, depth + 1)
        if found:
            return found
    return {}


def _checkpoint(state: dict[str, Tensor], layout: str, path: Path, known: dict[str, Any],
                heads: dict[str, Tensor], kind: str, facts: ConfigFacts | None) -> Checkpoint:
    if key_layout(state) != layout:
        found = key_layout(state)
        what = f"{found} ones" if found else "no HuBERT/wav2vec2 keys (not a HuBERT/wav2vec2 checkpoint)"
        raise CheckpointError(f"{path}: expected {layout} key names, found {what}")
    backbone, extra = to_fitedge_keys(state, layout, str(path))
    # torchaudio's files never state a config, and its users build custom widths with its factory functions,
    # so a head count that no released model has is asked for rather than guessed.
    config, guessed = infer_config_from_state_dict(backbone, str(path), known, facts=facts,
                                                   require_heads=layout == "torchaudio")
    meta = {"source": str(path), "imported_from": kind, "config_guessed": guessed}
    return Checkpoint(config, backbone, {**heads, **extra}, meta)
