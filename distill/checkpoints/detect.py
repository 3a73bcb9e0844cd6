"""Read any supported checkpoint into a :class:`Checkpoint`: detect its format by content, then import it.

Formats (``format=`` overrides detection):

=============  =====================================================================================
fitedge        fitedge's own folder (``config.json`` with ``"format": "fitedge"`` + ``model.safetensors``)
transformers   a transformers folder (``config.json`` + ``model.safetensors`` or ``pytorch_model.bin``)
fairseq        a ``.pt`` dict with the weights under ``model`` and the config under ``cfg`` or ``args``
torchaudio     a state dict with torchaudio's key names (``encoder.transformer.*``)
fithubert      the official FitHuBERT Lightning ``.ckpt`` (``state_dict`` with ``student_model.*``)
=============  =====================================================================================

A bare state dict (``.pt``/``.bin``/``.safetensors``) in fairseq or transformers naming is read as well,
with its config inferred from the tensor shapes. Files are only ever read through safetensors or
:func:`~fitedge.distill.checkpoints.safe_load.safe_torch_load`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import Tensor

from fitedge.distill.checkpoints.fairseq import (
    FINETUNED_PREFIX,
    STUDENT_PREFIX,
    import_fairseq,
    import_fithubert,
    import_state_dict,
)
from fitedge.distill.checkpoints.folder import (
    Checkpoint,
    is_fitedge_folder,
    read_checkpoint,
    read_safetensors,
    save_checkpoint,
)
from fitedge.distill.checkpoints.infer_config import ConfigFacts, check_stated
from fitedge.distill.checkpoints.key_maps import key_layout
from fitedge.distill.checkpoints.safe_load import is_torch_pickle, safe_torch_load
from fitedge.distill.checkpoints.transformers import import_transformers, is_transformers_folder
from fitedge.errors import CheckpointError
from fitedge.hub import is_hub_id, snapshot

log = logging.getLogger(__name__)

FORMATS = ("fitedge", "transformers", "fairseq", "torchaudio", "fithubert")


def import_checkpoint(path: str | Path, format: str | None = None, facts: ConfigFacts | None = None) -> Checkpoint:
    """Read the checkpoint at ``path`` (a folder, a file or a Hugging Face id) in ``format``, or in the format its
    content shows; ``facts`` are what the user states about a config the file may not (heads, the whole config)."""
    path = snapshot(str(path)) if is_hub_id(path) else Path(path)
    if format is not None and format not in FORMATS:
        raise CheckpointError(f"unknown checkpoint format {format!r}; known formats: {', '.join(FORMATS)}")
    if not path.exists():
        raise CheckpointError(f"{path}: no such file or folder")
    if path.is_dir():
        checkpoint = _import_folder(path, format)
        check_stated(checkpoint.config, facts, str(path))
        return checkpoint
    loaded = _read_file(path)
    detected = detect_format(loaded)
    if format is None and detected is None:
        raise CheckpointError(f"{path}: not a HuBERT/wav2vec2 checkpoint ({_describe(loaded)})")
    chosen = format or detected
    log.info("%s: reading as %s%s", path, chosen, "" if format is None else " (format given)")
    if chosen == "fithubert":
        return import_fithubert(loaded, path, facts)
    if chosen == "fairseq" and not _is_tensor_dict(loaded):
        return import_fairseq(loaded, path, facts)
    if chosen == "fitedge":
        raise CheckpointError(f"{path}: a fitedge checkpoint is a folder, not a file")
    if not _is_tensor_dict(loaded):
        raise CheckpointError(f"{path}: not a {chosen} state dict ({_describe(loaded)})")
    return import_state_dict(loaded, path, chosen, facts)


def detect_format(loaded: Any) -> str | None:
    """The format of a loaded file's content, or ``None`` when it is not a HuBERT/wav2vec2 checkpoint."""
    if not isinstance(loaded, Mapping):
        return None
    inner = loaded.get("state_dict")
    if isinstance(inner, Mapping) and any(str(k).startswith(STUDENT_PREFIX) for k in inner):
        return "fithubert"
    model = loaded.get("model")
    if isinstance(model, Mapping) and ("cfg" in loaded or "args" in loaded or _is_tensor_dict(model)):
        return "fairseq" if key_layout(_prefix_free(loaded["model"])) else None
    if _is_tensor_dict(loaded):
        layout = key_layout(loaded)
        return {"fairseq": "fairseq", "torchaudio": "torchaudio", "transformers": "transformers"}.get(layout or "")
    return None


def import_to_folder(source: str | Path, out: str | Path, format: str | None = None, force: bool = False,
                     facts: ConfigFacts | None = None) -> Path:
    """Import ``source`` and write it as a fitedge checkpoint folder at ``out`` (atomic: all or nothing).

    The weights are loaded into an encoder strictly first, so a folder is only written when every tensor fits.
    """
    out = Path(out)
    if out.exists() and not force:
        raise CheckpointError(f"{out} already exists; pass --force to replace it")
    if out.exists() and not out.is_dir():
        raise CheckpointError(f"{out} exists and is not a folder")
    checkpoint = import_checkpoint(source, format, facts)
    encoder = checkpoint.build()
    meta = {k: v for k, v in checkpoint.meta.items() if k != "source"}
    meta["imported_source"] = str(source) if is_hub_id(source) else str(Path(source).resolve())
    if out.exists():
        log.info("replacing %s", out)
    return save_checkpoint(encoder, out, heads=checkpoint.heads or None, meta=meta, overwrite=True)


def _import_folder(path: Path, format: str | None) -> Checkpoint:
    if format in (None, "fitedge") and is_fitedge_folder(path):
        return read_checkpoint(path)
    if format in (None, "transformers") and is_transformers_folder(path):
        return import_transformers(path)
    wanted = f"a {format} checkpoint" if format else "a fitedge or transformers checkpoint folder"
    raise CheckpointError(f"{path}: not {wanted} (expected config.json with model.safetensors or pytorch_model.bin)")


def _read_file(path: Path) -> Any:
    if _is_safetensors(path):
        return read_safetensors(path)
    if is_torch_pickle(path):
        return safe_torch_load(path)
    raise CheckpointError(f"{path}: not a checkpoint file (neither safetensors nor a PyTorch checkpoint)")


def _is_safetensors(path: Path) -> bool:
    """safetensors files start with an 8-byte little-endian header size, then the JSON header ``{``."""
    with open(path, "rb") as f:
        head = f.read(9)
    return len(head) == 9 and head[8:9] == b"{" and 0 < int.from_bytes(head[:8], "little") < path.stat().st_size


def _is_tensor_dict(obj: Any) -> bool:
    return isinstance(obj, Mapping) and bool(obj) and all(isinstance(v, Tensor) for v in obj.values())


def _prefix_free(state: Mapping[str, Any]) -> dict[str, Any]:
    """fairseq fine-tuned models nest the backbone under ``w2v_encoder.w2v_model.``; look through it."""
    nested = {k[len(FINETUNED_PREFIX):]: v for k, v in state.items() if k.startswith(FINETUNED_PREFIX)}
    return nested or dict(state)


def _describe(loaded: Any) -> str:
    if isinstance(loaded, Mapping):
        keys = [str(k) for k in list(loaded)[:3]]
        return f"keys like {', '.join(keys)}" if keys else "an empty dict"
    return f"a {type(loaded).__name__}"

