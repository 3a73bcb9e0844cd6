"""Recover an :class:`EncoderConfig` from what a checkpoint holds: its tensor shapes and its fairseq config.

Shapes determine almost the whole architecture. Three things they cannot tell, and the rules used when the
file does not say either (each such guess is returned so that the importer can record and log it):
conv strides (the family's fixed kernel-to-stride pairs 10:5, 3:2, 2:2, 1:1), the number of attention heads
(head size 64, or 12 heads when the width is not a multiple of 64, as in FitHuBERT's 480), and pre-LN vs
post-LN (pre-LN exactly when the extractor uses LayerNorm, true of every released HuBERT/wav2vec2 model).

The head count is the one guess that silently changes the numbers (a 64-wide, 4-head model read as 1 head
differs by 3.6e-3), so what the file does not say the user can (:class:`ConfigFacts`: ``fitedge import
--heads/--encoder/--guess``), and an importer can refuse to guess it (torchaudio state dicts) unless the widths
are those of a released model.
"""

from __future__ import annotations

import ast
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
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

# Heads of the released architectures, by (width, FFN width): torchaudio's factories (wav2vec2/HuBERT base, large,
# xlarge; XLS-R 300M/1B/2B) and fairseq's. Where the shapes are one of these, the count is theirs, not a rule:
# the head-size-64 rule is wrong for the 1280-wide ones (16 heads of 80, not 20 of 64).
RELEASED_HEADS = {(768, 3072): 12, (1024, 4096): 16, (1280, 5120): 16, (1920, 7680): 16}
# Fields that change what the model computes; a stated value of one of them must agree with an --encoder given.
_NUMERIC_FIELDS = ("conv_layers", "conv_bias", "extractor_mode", "conv_activation", "mu_law", "feature_layer_norm",
                   "dim", "layers", "heads", "ffn_dim", "layer_norm_first", "pos_conv_kernel", "pos_conv_groups",
                   "pos_conv_causal", "attention_chunk_frames", "attention_left_frames", "time_reduction",
                   "time_reduction_factor", "layer_norm_eps", "normalize_waveform")


@dataclass(frozen=True)
class ConfigFacts:
    """What the user states about a checkpoint that its file may not (``fitedge import --heads/--encoder/--guess``).

    Attributes:
        heads: the number of attention heads (tensor shapes cannot tell it).
        config: the whole encoder config; the weights' shapes and what the file states are checked against it.
        guess: accept a guessed head count where an importer would otherwise refuse (logged as a warning).
    """

    heads: int | None = None
    config: EncoderConfig | None = None
    guess: bool = False

    @property
    def given(self) -> bool:
        return self.heads is not None or self.config is not None or self.guess


def read_config_file(path: str | Path) -> EncoderConfig:
    """An encoder config from JSON: ``EncoderConfig.save``'s, or a fitedge checkpoint folder's ``config.json``."""
    try:
        doc = json.loads(Path(path).read_text())
        if isinstance(doc, dict) and doc.get("format") == "fitedge":  # a checkpoint's config.json: the encoder part
            doc = doc.get("encoder")
        if not isinstance(doc, dict):
            raise TypeError("expected a JSON object of EncoderConfig fields")
        return EncoderConfig.from_dict(doc)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError, ConfigError) as e:
        raise ConfigError(f"{path}: not a fitedge encoder config ({e})") from None


def check_stated(config: EncoderConfig, facts: ConfigFacts | None, source: str) -> None:
    """Refuse ``facts`` that contradict a config the checkpoint states in full (a transformers or fitedge folder)."""
    if facts is None:
        return
    if facts.heads is not None and facts.heads != config.heads:
        raise CheckpointError(f"{source}: the checkpoint states {config.heads} attention heads, not {facts.heads}")
    if facts.config is not None:
        stated = config.to_dict()
        differ = _differences({k: stated[k] for k in _NUMERIC_FIELDS}, facts.config)
        if differ:
            raise CheckpointError(f"{source}: the checkpoint states its config, and the given one differs: {differ}")


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
                                 base: EncoderConfig | None = None, facts: ConfigFacts | None = None,
                                 require_heads: bool = False) -> tuple[EncoderConfig, list[str]]:
    """The config of a fitedge-named backbone ``state``; returns it and the names of the fields that were guessed.

    Args:
        state: backbone tensors with fitedge (transformers ``HubertModel``) names.
        source: the file, for error messages.
        known: fields the checkpoint states explicitly (from its own config); they win over shapes.
        base: defaults for what neither shapes nor ``known`` say (dropouts, eps); ``EncoderConfig()`` if None.
        facts: what the user states; ``facts.config`` is taken whole (after checking it against the shapes and
            ``known``), ``facts.heads`` as if the file stated it.
        require_heads: refuse to guess the head count (unless ``facts.guess``) where the widths are not those
            of a released architecture.
    """
    known = dict(known or {})
    facts = facts or ConfigFacts()
    shaped = _fields_from_shapes(state, source)
    if facts.config is not None:
        return _given_config(facts, shaped, known, source), []
    if facts.heads is not None:
        if known.get("heads", facts.heads) != facts.heads:
            raise CheckpointError(f"{source}: the file states {known['heads']} attention heads, not {facts.heads}")
        known["heads"] = facts.heads
    guessed = []
    if "conv_layers" not in known:
        shaped["conv_layers"] = _with_strides(shaped.pop("conv_shapes"), source)
        guessed.append("conv strides")
    else:
        shaped.pop("conv_shapes")
    if "heads" not in known:
        shaped["heads"] = _default_heads(shaped["dim"], shaped["ffn_dim"], source, require_heads, facts.guess)
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


def _default_heads(dim: int, ffn_dim: int, source: str, required: bool, guess: bool) -> int:
    if (dim, ffn_dim) in RELEASED_HEADS:
        return RELEASED_HEADS[dim, ffn_dim]
    heads = dim // 64 if dim % 64 == 0 else 12 if dim % 12 == 0 else None
    if (required and not guess) or heads is None:
        offer = f", or accept the guess of {heads} with --guess (guess=True)" if heads is not None else ""
        raise CheckpointError(f"{source}: the file does not say how many attention heads its {dim}-wide layers have "
                              f"and shapes cannot tell; give them with --heads N or --encoder FILE (fitedge import; "
                              f"fitedge.load: heads=, config=){offer}")
    if guess:
        log.warning("%s: guessed %d attention head%s of size %d for the %d-wide layers (--guess); outputs are wrong "
                    "if the model has another count", source, heads, "" if heads == 1 else "s", dim // heads, dim)
    return heads


def _given_config(facts: ConfigFacts, shaped: dict[str, Any], known: dict[str, Any], source: str) -> EncoderConfig:
    """``facts.config``, once the weights' shapes and what the file states agree with it (one line if not)."""
    config = facts.config
    assert config is not None
    if facts.heads is not None and facts.heads != config.heads:
        raise CheckpointError(f"{source}: --heads {facts.heads} contradicts the given config's {config.heads} heads")
    shapes = dict(shaped)
    # Shapes show each conv's channels and kernel, not its stride.
    shapes["conv_layers"] = [[c, k] for c, k in shapes.pop("conv_shapes")]
    given = {**config.to_dict(), "conv_layers": [[c, k] for c, k, _ in config.conv_layers]}
    differ = _differences(shapes, config, given)
    if differ:
        raise CheckpointError(f"{source}: the weights do not fit the given config: {differ}")
    differ = _differences({k: v for k, v in known.items() if k in _NUMERIC_FIELDS}, config)
    if differ:
        raise CheckpointError(f"{source}: the file states another config than the given one: {differ}")
    return config


def _differences(found: Mapping[str, Any], config: EncoderConfig, given: Mapping[str, Any] | None = None) -> str:
    """``"field found (config given)"`` for every field of ``found`` the config has otherwise; empty if none."""
    given = given if given is not None else config.to_dict()
    if "time_reduction_factor" in found and not found.get("time_reduction", config.time_reduction):
        found = {k: v for k, v in found.items() if k != "time_reduction_factor"}  # unused without time reduction

    def norm(value: Any) -> Any:
        return [norm(v) for v in value] if isinstance(value, list | tuple) else value

    return ", ".join(f"{k} {norm(v)} (config {norm(given[k])})" for k, v in found.items()
                     if k in given and norm(v) != norm(given[k]))
