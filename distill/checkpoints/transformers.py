"""Import a transformers checkpoint folder (``HubertModel``, ``Wav2Vec2Model`` and their ``For...`` heads).

The folder holds ``config.json`` and ``model.safetensors`` (or its shards, or ``pytorch_model.bin``); an
optional ``preprocessor_config.json`` says whether the model expects normalised audio. transformers and
fitedge share parameter names, so the only renames are the model prefix of ``...ForCTC`` checkpoints
(``hubert.``/``wav2vec2.``, whatever lies outside it is kept as heads, e.g. ``lm_head.*``) and the
weight-norm key style.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import Tensor

from fitedge.distill.checkpoints.folder import Checkpoint, read_safetensors
from fitedge.distill.checkpoints.key_maps import require_layout, strip_prefix, to_fitedge_keys
from fitedge.distill.checkpoints.safe_load import safe_torch_load
from fitedge.distill.models.config import EncoderConfig
from fitedge.errors import CheckpointError, ConfigError

MODEL_TYPES = ("hubert", "wav2vec2")
MODEL_PREFIXES = ("hubert.", "wav2vec2.")
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")
_NORM_MODES = {"group": "group_norm", "layer": "layer_norm"}
# transformers' own defaults (HubertConfig/Wav2Vec2Config), for hand-written configs that leave fields out.
HF_DEFAULTS: dict[str, Any] = {
    "conv_dim": [512] * 7, "conv_kernel": [10, 3, 3, 3, 3, 2, 2], "conv_stride": [5, 2, 2, 2, 2, 2, 2],
    "conv_bias": False, "feat_extract_norm": "group", "feat_proj_layer_norm": True, "hidden_size": 768,
    "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072, "do_stable_layer_norm": False,
    "num_conv_pos_embeddings": 128, "num_conv_pos_embedding_groups": 16, "hidden_dropout": 0.1,
    "attention_dropout": 0.1, "activation_dropout": 0.1, "feat_proj_dropout": 0.0, "layerdrop": 0.1,
    "layer_norm_eps": 1e-5, "hidden_act": "gelu", "feat_extract_activation": "gelu",
}


def is_transformers_folder(path: Path) -> bool:
    return path.is_dir() and (path / "config.json").is_file() and any((path / f).is_file() for f in WEIGHT_FILES)


def import_transformers(folder: Path) -> Checkpoint:
    """Read a transformers folder into a :class:`Checkpoint` (weights renamed, config translated)."""
    hf = _read_json(folder / "config.json")
    model_type = hf.get("model_type")
    if model_type not in MODEL_TYPES:
        raise CheckpointError(f"{folder / 'config.json'}: not a HuBERT/wav2vec2 checkpoint "
                              f"(model_type {model_type!r}; supported: {', '.join(MODEL_TYPES)})")
    preprocessor = folder / "preprocessor_config.json"
    normalize = bool(_read_json(preprocessor).get("do_normalize", False)) if preprocessor.is_file() else False
    config = config_from_hf(hf, str(folder / "config.json"), normalize)
    state, weights_file = _read_weights(folder)
    heads: dict[str, Tensor] = {}
    for prefix in MODEL_PREFIXES:
        if any(k.startswith(prefix) for k in state):
            state, heads = strip_prefix(state, prefix)
            break
    backbone, extra_heads = to_fitedge_keys(state, require_layout(state, str(weights_file)), str(weights_file))
    meta = {"source": str(folder), "imported_from": "transformers",
            "architectures": hf.get("architectures") or [], "weights_file": weights_file.name}
    return Checkpoint(config, backbone, {**heads, **extra_heads}, meta)


def config_from_hf(hf: dict[str, Any], source: str, normalize_waveform: bool = False) -> EncoderConfig:
    """Translate a transformers ``HubertConfig``/``Wav2Vec2Config`` dict to an :class:`EncoderConfig`."""
    hf = {**HF_DEFAULTS, **{k: v for k, v in hf.items() if v is not None}}
    for key in ("hidden_act", "feat_extract_activation"):
        if hf[key] != "gelu":
            raise CheckpointError(f"{source}: {key} {hf[key]!r} is not supported (fitedge encoders use gelu)")
    for flag in ("conv_pos_batch_norm", "add_adapter"):
        if hf.get(flag):
            raise CheckpointError(f"{source}: {flag}=true is not supported by fitedge's encoder")
    mode = _NORM_MODES.get(hf["feat_extract_norm"])
    if mode is None:
        raise CheckpointError(f"{source}: unsupported feat_extract_norm {hf['feat_extract_norm']!r}")
    try:
        return EncoderConfig(
            conv_layers=tuple(zip(hf["conv_dim"], hf["conv_kernel"], hf["conv_stride"], strict=True)),
            conv_bias=bool(hf["conv_bias"]),
            extractor_mode=mode,
            # Wav2Vec2's projection always has the LayerNorm; HuBERT makes it optional.
            feature_layer_norm=bool(hf["feat_proj_layer_norm"]),
            dim=hf["hidden_size"],
            layers=hf["num_hidden_layers"],
            heads=hf["num_attention_heads"],
            ffn_dim=hf["intermediate_size"],
            layer_norm_first=bool(hf["do_stable_layer_norm"]),
            pos_conv_kernel=hf["num_conv_pos_embeddings"],
            pos_conv_groups=hf["num_conv_pos_embedding_groups"],
            dropout=float(hf["hidden_dropout"]),
            attention_dropout=float(hf["attention_dropout"]),
            activation_dropout=float(hf["activation_dropout"]),
            feature_dropout=float(hf["feat_proj_dropout"]),
            layer_drop=float(hf["layerdrop"]),
            layer_norm_eps=float(hf["layer_norm_eps"]),
            normalize_waveform=normalize_waveform,
        )
    except (ConfigError, ValueError, TypeError) as e:
        raise CheckpointError(f"{source}: unusable config ({e})") from None


def _read_weights(folder: Path) -> tuple[dict[str, Tensor], Path]:
    if (folder / "model.safetensors").is_file():
        return read_safetensors(folder / "model.safetensors"), folder / "model.safetensors"
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(_read_json(index).get("weight_map", {}).values()))
        state: dict[str, Tensor] = {}
        for shard in shards:
            state.update(read_safetensors(folder / shard))
        return state, index
    loaded = safe_torch_load(folder / "pytorch_model.bin")
    if not isinstance(loaded, dict):
        raise CheckpointError(f"{folder / 'pytorch_model.bin'}: not a state dict")
    return loaded, folder / "pytorch_model.bin"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path}: unreadable JSON ({e})") from None
    if not isinstance(doc, dict):
        raise CheckpointError(f"{path}: expected a JSON object")
    return doc
