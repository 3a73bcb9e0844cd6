"""The CTC phoneme head a bundle ships: encoder output to per-frame token logits, and its safetensors file.

``fitedge eval per --save-probe`` writes the head of a trained probe; ``fitedge export --head`` appends it to
the deployed graph, whose extra output ``logits`` an app decodes greedily. The probe's feature standardisation,
and for the ``weighted`` layer choice its softmax layer weights, are folded into the first linear layer, so
the head is plain linear layers on the encoder's hidden states: the weighted sum of ``L`` standardised layers
followed by ``Linear(dim, k)`` is exactly one ``Linear(L * dim, k)`` over the concatenated layers.

File: tensors ``net.{i}.weight`` / ``net.{i}.bias`` for ``i = 0, 2, 4, ...`` (linear layers, ReLU between) and
string metadata ``format``, ``version``, ``tokens`` (JSON list, the CTC blank first), ``blank`` (``0``),
``layer`` (``last``, ``weighted`` or a hidden-state index) and ``info`` (JSON: what it was trained on). Read
through safetensors only; anything else in the file is refused with one line.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from fitedge.distill.models.config import EncoderConfig
from fitedge.distill.models.encoder import EncoderOutput
from fitedge.errors import CheckpointError, ConfigError, one_line
from fitedge.files import atomic_file

HEAD_FORMAT = "fitedge.ctc_head"
HEAD_VERSION = 1
BLANK_TOKEN = "<blank>"
BLANK = 0  # the blank is always the first token

Layer = str | int  # "last", "weighted" or a hidden-state index


class CtcHead(nn.Module):
    """Linear layers (ReLU between) on one hidden state, or on all of them concatenated (``weighted``).

    Attributes:
        tokens: the output classes in order, the CTC blank first.
        layer: ``last`` (``last_hidden_state``), ``weighted`` (every hidden state) or a hidden-state index.
        net: the layers; ``net[0]`` takes ``dim`` (``dim * (layers + 1)`` for ``weighted``) inputs.
        info: what the head was trained on, for the record (JSON-serialisable).
    """

    def __init__(self, tokens: Sequence[str], layer: Layer, net: nn.Sequential, info: dict[str, Any] | None = None):
        super().__init__()
        self.tokens = list(tokens)
        self.layer = layer
        self.net = net
        self.info = dict(info or {})

    @property
    def in_features(self) -> int:
        return self.net[0].in_features

    def forward(self, out: EncoderOutput) -> Tensor:
        """The encoder's output to ``(batch, frames, len(tokens))`` logits."""
        if self.layer == "last":
            x = out.last_hidden_state
        elif self.layer == "weighted":
            x = torch.cat(out.hidden_states, dim=-1)
        else:
            x = out.hidden_states[self.layer]
        return self.net(x)

    def check_fits(self, config: EncoderConfig, source: str) -> None:
        """Raise a one-line :class:`ConfigError` unless this head reads hidden states ``config``'s encoder has."""
        if isinstance(self.layer, int) and self.layer > config.layers:
            raise ConfigError(f"{source}: the head reads hidden state {self.layer}, the model has 0..{config.layers}")
        expected = config.dim * (config.layers + 1 if self.layer == "weighted" else 1)
        if self.in_features != expected:
            raise ConfigError(f"{source}: the head takes {self.in_features} features per frame, the model's layer "
                              f"{self.layer} gives {expected} (a probe trained on another model?)")


def parse_head_layer(value: str | int) -> Layer:
    """``last``, ``weighted`` or a non-negative hidden-state index (int or digit string)."""
    if isinstance(value, int) or str(value).isdigit():
        return int(value)
    if value in ("last", "weighted"):
        return str(value)
    raise ValueError(f"layer must be last, weighted or an index, got {value!r}")


def save_ctc_head(head: CtcHead, path: str | Path) -> Path:
    """Write ``head`` to ``path`` (safetensors, atomically)."""
    from safetensors.torch import save_file

    tensors = {f"net.{k}": v.detach().contiguous().clone() for k, v in head.net.state_dict().items()}
    metadata = {"format": HEAD_FORMAT, "version": str(HEAD_VERSION), "tokens": json.dumps(head.tokens),
                "blank": str(BLANK), "layer": str(head.layer), "info": json.dumps(head.info)}
    with atomic_file(path, suffix=".safetensors") as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    return Path(path)


def load_ctc_head(path: str | Path) -> CtcHead:
    """The head saved at ``path``; a one-line :class:`CheckpointError` for a missing, foreign or broken file."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such head file")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # safetensors raises its own SafetensorError and OSError for a non-safetensors file
        raise CheckpointError(f"{path}: not a safetensors file ({one_line(e)})") from None
    if metadata.get("format") != HEAD_FORMAT:
        raise CheckpointError(f"{path}: not a fitedge CTC head (save one with fitedge eval per --save-probe)")
    if metadata.get("version") != str(HEAD_VERSION):
        raise CheckpointError(f"{path}: head version {metadata.get('version')} is not supported "
                              f"(expected {HEAD_VERSION})")
    try:
        tokens, layer, info = _read_metadata(metadata)
    except (ValueError, TypeError, KeyError) as e:  # json.JSONDecodeError is a ValueError
        raise CheckpointError(f"{path}: bad head metadata ({one_line(e)})") from None
    return CtcHead(tokens, layer, _build_net(tensors, len(tokens), path), info)


def _read_metadata(metadata: dict[str, str]) -> tuple[list[str], Layer, dict[str, Any]]:
    tokens = json.loads(metadata["tokens"])
    if not isinstance(tokens, list) or len(tokens) < 2 or not all(isinstance(t, str) and t.strip() for t in tokens):
        raise ValueError("tokens must be a list of at least two non-empty strings")
    if len(set(tokens)) != len(tokens) or any(t != t.strip() or "\n" in t for t in tokens):
        raise ValueError("tokens must be distinct, without surrounding spaces or line breaks")
    if metadata["blank"] != str(BLANK):
        raise ValueError(f"blank must be {BLANK} (the first token), got {metadata['blank']}")
    info = json.loads(metadata.get("info", "{}"))
    if not isinstance(info, dict):
        raise ValueError("info must be a JSON object")
    return tokens, parse_head_layer(metadata["layer"]), info


def _build_net(tensors: dict[str, Tensor], classes: int, path: Path) -> nn.Sequential:
    """Linear layers from ``net.{0,2,4,...}.{weight,bias}``, checked to chain and to end in ``classes`` outputs."""
    count = len(tensors) // 2
    expected = {f"net.{2 * i}.{p}" for i in range(count) for p in ("weight", "bias")}
    if count == 0 or set(tensors) != expected:
        raise CheckpointError(f"{path}: expected tensors net.0.weight, net.0.bias (net.2.*, ...), "
                              f"found {', '.join(sorted(tensors)) or 'none'}")
    layers: list[nn.Module] = []
    width = None
    for i in range(count):
        weight, bias = tensors[f"net.{2 * i}.weight"], tensors[f"net.{2 * i}.bias"]
        if weight.ndim != 2 or bias.shape != weight.shape[:1] or (width is not None and weight.shape[1] != width):
            raise CheckpointError(f"{path}: net.{2 * i} has shapes {list(weight.shape)} and {list(bias.shape)}, "
                                  "which do not chain")
        if not (weight.is_floating_point() and bias.is_floating_point()):
            raise CheckpointError(f"{path}: net.{2 * i} is not floating point")
        linear = nn.Linear(weight.shape[1], weight.shape[0])
        linear.load_state_dict({"weight": weight.float(), "bias": bias.float()})
        layers += [nn.ReLU(), linear] if layers else [linear]
        width = weight.shape[0]
    if width != classes:
        raise CheckpointError(f"{path}: the head has {width} outputs for {classes} tokens")
    return nn.Sequential(*layers).eval()
