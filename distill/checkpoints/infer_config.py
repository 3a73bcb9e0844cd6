"""Recover an :class:`EncoderConfig` from what a checkpoint holds: its tensor shapes and its fairseq config.

Shapes determine almost the whole architecture. Three things they cannot tell, and the rules used when the
file does not say either (each such guess is returned so that the importer can record and log it):
conv strides (the family's fixed kernel-to-stride pairs 10:5, 3:2, 2:2, 1:1), the number of attention heads
(head size 64, or 12 heads when the width is not a multiple of 64, as in FitHuBERT's 480), and pre-LN vs
post-LN (pre-LN exactly when the extractor uses LayerNorm, true of every released HuBERT/wav2vec2 model).
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Mapping
from typing import Any

from torch import Tensor

from fitedge.distill.models.config import EncoderConfig
from fitedge.errors import CheckpointError, ConfigError

log = logging.getLogger(__name__)

_CONV = "feature_extractor.conv_layers"
STRIDE_OF_KERNEL = {10: 5, 3: 2, 2: 2, 1: 1}

# fairseq option name -> EncoderConfig field (values copied as they are).
FAIRSEQ_FIELDS = {
    "conv_bias": "conv_bias",
    "encoder_embed_dim": "dim",
    "encoder_layers": "layers",
    "encoder_attention_heads": "heads",
    "encoder_ffn_embed_dim": "ffn_dim",
    "layer_norm_first": "layer_norm_first",
    "conv_pos": "pos_conv_kernel",
    "conv_pos_groups": "pos_conv_groups",
    "dropout": "dropout",
    "attention_dropout": "attention_dropout",
    "activation_dropout": "activation_dropout",
    "dropout_input": "feature_dropout",
    "encoder_layerdrop": "layer_drop",
    "normalize": "normalize_waveform",
}
_EXTRACTOR_MODES = {"default": "group_norm", "group_norm": "group_norm", "layer_norm": "layer_norm"}


def fairseq_config_fields(options: Mapping[str, Any], source: str) -> dict[str, Any]:
    """EncoderConfig fields from a fairseq model config (``cfg['model']`` or ``vars(args)``); absent ones omitted."""
    fields = {field: options[name] for name, field in FAIRSEQ_FIELDS.items() if options.get(name) is not None}
    if "extractor_mode" in options:
        mode = _EXTRACTOR_MODES.get(str(options["extractor_mode"]))
        if mode is None:
            raise CheckpointError(f"{source}: unsupported extractor_mode {options['extractor_mode']!r}")
        fields["extractor_mode"] = mode
    if options.get("conv_feature_layers"):
        fields["conv_layers"] = parse_conv_spec(str(options["conv_feature_layers"]), source)
    activation = options.get("activation_fn", "gelu")
    if activation != "gelu":
        raise CheckpointError(f"{source}: activation {activation!r} is not supported (fitedge encoders use gelu)")
    for name in ("dropout", "attention_dropout", "activation_dropout", "feature_dropout", "layer_drop"):
        if name in fields:
            fields[name] = float(fields[name])
    if "enable_tr_layer" in options:  # the official FitHuBERT code's time-reduction options
        fields.update(_time_reduction_fields(options, source))
    return fields


def _time_reduction_fields(options: Mapping[str, Any], source: str) -> dict[str, Any]:
    if not options["enable_tr_layer"]:
        return {"time_reduction": None}
    kind, index = options.get("tr_layer_type", "conv1d"), int(options.get("tr_layer_index", 0))
    if kind != "conv1d" or index != 0:
        raise CheckpointError(f"{source}: time reduction {kind!r} at layer index {index} is not supported "
                              "(fitedge has the paper's 'conv1d' before the first transformer layer)")
    return {"time_reduction": "conv1d", "time_reduction_factor": int(options.get("tr_reduce_factor", 2))}


def parse_conv_spec(text: str, source: str) -> tuple[tuple[int, int, int], ...]:
    """Evaluate fairseq's ``conv_feature_layers`` string (e.g. ``[(512,10,5)] + [(512,3,2)] * 4``) safely.

    Only list/tuple literals of integers, ``+`` and ``*`` are accepted; nothing is ``eval``-ed.
    """

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.List | ast.Tuple):
            return [value(e) for e in node.elts]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mult):
            left, right = value(node.left), value(node.right)
            return left + right if isinstance(node.op, ast.Add) else left * right
        raise ValueError(f"unsupported element {ast.dump(node)[:40]}")

    try:
        layers = value(ast.parse(text, mode="eval").body)
        return tuple((int(c), int(k), int(s)) for c, k, s in layers)
    except (SyntaxError, ValueError, TypeError) as e:
        raise CheckpointError(f"{source}: cannot read conv_feature_layers {text!r} ({e})") from None


def infer_config_from_state_dict(state: Mapping[str, Tensor], source: str, known: Mapping[str, Any] | None = None,
                                 base: EncoderConfig | None = None) -> tuple[EncoderConfig, list[str]]:
    """The config of a fitedge-named backbone ``state``; returns it and the names of the fields that were guessed.

    Args:
        state: backbone tensors with fitedge (transformers ``HubertModel``) names.
        source: the file, for error messages.
        known: fields the checkpoint states explicitly (from its own config); they win over shapes.
        base: defaults for what neither shapes nor ``known`` say (dropouts, eps); ``EncoderConfig()`` if None.
    """
    known = dict(known or {})
    shaped = _fields_from_shapes(state, source)
    guessed = []
    if "conv_layers" not in known:
        shaped["conv_layers"] = _with_strides(shaped.pop("conv_shapes"), source)
        guessed.append("conv strides")
    else:
        shaped.pop("conv_shapes")
    if "heads" not in known:
        shaped["heads"] = _default_heads(shaped["dim"], source)
        guessed.append("heads")
    if "layer_norm_first" not in known:
        shaped["layer_norm_first"] = shaped["extractor_mode"] == "layer_norm"
        guessed.append("layer_norm_first")
    if guessed:
        log.warning("%s: config not stated in the file; guessed %s from tensor shapes", source, ", ".join(guessed))
    try:
        return (base or EncoderConfig()).replace(**{**shaped, **known}), guessed
    except (ConfigError, TypeError) as e:
        raise CheckpointError(f"{source}: inconsistent encoder config ({e})") from None


def _fields_from_shapes(state: Mapping[str, Tensor], source: str) -> dict[str, Any]:
    def tensor(key: str) -> Tensor:
        if key not in state:
            raise CheckpointError(f"{source}: missing {key}; cannot infer the encoder config")
        return state[key]

    conv_shapes = []
    while f"{_CONV}.{len(conv_shapes)}.conv.weight" in state:
        out_ch, _, kernel = state[f"{_CONV}.{len(conv_shapes)}.conv.weight"].shape
        conv_shapes.append((int(out_ch), int(kernel)))
    dim = int(tensor("feature_projection.projection.weight").shape[0])
    layer_ids = {int(m.group(1)) for k in state if (m := re.match(r"encoder\.layers\.(\d+)\.", k))}
    pos_key = "encoder.pos_conv_embed.conv.weight"
    if pos_key not in state:
        pos_key = "encoder.pos_conv_embed.conv.parametrizations.weight.original1"
    pos = tensor(pos_key)
    fields: dict[str, Any] = {
        "conv_shapes": conv_shapes,
        "conv_bias": f"{_CONV}.0.conv.bias" in state,
        "extractor_mode": "layer_norm" if f"{_CONV}.1.layer_norm.weight" in state else "group_norm",
        "feature_layer_norm": "feature_projection.layer_norm.weight" in state,
        "dim": dim,
        "layers": len(layer_ids),
        "ffn_dim": int(tensor("encoder.layers.0.feed_forward.intermediate_dense.weight").shape[0]),
        "pos_conv_kernel": int(pos.shape[2]),
        "pos_conv_groups": dim // int(pos.shape[1]),
        "time_reduction": None,
    }
    if "encoder.time_reduction.conv.weight" in state:  # conv1d: kernel = stride = factor
        factor = int(state["encoder.time_reduction.conv.weight"].shape[2])
        fields.update(time_reduction="conv1d", time_reduction_factor=factor)
    elif "encoder.time_reduction.proj.weight" in state:  # concat: Linear(dim * factor -> dim)
        factor = int(state["encoder.time_reduction.proj.weight"].shape[1]) // dim
        fields.update(time_reduction="concat", time_reduction_factor=factor)
    return fields


def _with_strides(conv_shapes: list[tuple[int, int]], source: str) -> tuple[tuple[int, int, int], ...]:
    layers = []
    for i, (channels, kernel) in enumerate(conv_shapes):
        if kernel not in STRIDE_OF_KERNEL:
            raise CheckpointError(f"{source}: cannot infer the stride of conv layer {i} (kernel {kernel}); "
                                  "the file has no conv_feature_layers config")
        layers.append((channels, kernel, STRIDE_OF_KERNEL[kernel]))
    return tuple(layers)


def _default_heads(dim: int, source: str) -> int:
    if dim % 64 == 0:
        return dim // 64
    if dim % 12 == 0:
        return 12
    raise CheckpointError(f"{source}: cannot infer the attention heads of width {dim}; the file states no config")
