"""How big and how costly an encoder is: parameters, MACs/FLOPs for S seconds of audio, frame rate, per block.

MACs are counted from the modules that actually run, with forward hooks: every ``Conv1d``
(``out_elements x in_channels/groups x kernel``), ``ConvTranspose1d`` (``in_elements x out_channels/groups x
kernel``) and ``Linear`` (``out_elements x in_features``), plus the two attention matmuls of every
:class:`SelfAttention` (``q @ k`` and ``probs @ v``: ``batch x frames^2 x dim`` each). FLOPs = 2 x MACs for
those. Not counted: biases, norms, activations, softmax, residual adds (together well under 1 %).
The pass runs on PyTorch's ``meta`` device: shapes only, no memory, no arithmetic, so hubert-base is instant.

Parameters are counted with the positional conv's weight norm as two tensors (``g`` and ``v``), as the
FitHuBERT paper counts them; the folded inference weight has ``pos_conv_kernel`` fewer.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from fitedge.distill.models.attention import SelfAttention
from fitedge.distill.models.config import EncoderConfig
from fitedge.distill.models.encoder import Encoder, build_encoder

TEACHER_DIM = 768  # FitHuBERT's hint heads project to HuBERT Base's width
COUNTED = "Conv1d, ConvTranspose1d, Linear and attention matmuls (q@k, probs@v); FLOPs = 2 x MACs"

# Module name prefix -> block label, in the order of the forward pass.
BLOCKS = (
    ("feature_extractor.", "feature extractor"),
    ("feature_projection.", "feature projection"),
    ("encoder.pos_conv_embed.", "positional conv"),
    ("encoder.layer_norm.", "encoder layer norm"),
    ("encoder.time_reduction.", "time reduction"),
)


@dataclass(frozen=True)
class BlockProfile:
    name: str
    params: int
    macs: int


@dataclass(frozen=True)
class ModelProfile:
    """What ``fitedge info`` shows for one model; ``reported_params`` only for FitHuBERT-style students."""

    name: str
    seconds: float
    samples: int
    frames: int
    dim: int
    layers: int
    frame_rate_hz: float
    frame_hop_ms: float
    params: int
    folded_params: int
    macs: int
    blocks: tuple[BlockProfile, ...]
    heads_params: int = 0
    reported_params: int | None = None
    reported_parts: dict[str, int] = field(default_factory=dict)
    source: str = ""
    config: EncoderConfig | None = None

    @property
    def flops(self) -> int:
        return 2 * self.macs

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["config"] = self.config.to_dict() if self.config else None
        d["flops"] = self.flops
        d["counted"] = COUNTED
        return d


def count_macs(module: nn.Module, *inputs: Any) -> dict[str, int]:
    """Run ``module(*inputs)`` once and return the MACs of every counted submodule, by qualified name."""
    macs: dict[str, int] = {}

    def hook(name: str):
        def record(mod: nn.Module, args: tuple[Tensor, ...], out: Any) -> None:
            macs[name] = macs.get(name, 0) + module_macs(mod, args[0], out)
        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in module.named_modules()
               if isinstance(m, nn.Conv1d | nn.ConvTranspose1d | nn.Linear | SelfAttention)]
    try:
        with torch.no_grad():
            module(*inputs)
    finally:
        for h in handles:
            h.remove()
    return macs


def module_macs(module: nn.Module, x: Tensor, out: Tensor) -> int:
    """Multiply-accumulates of one call of a counted module (the attention's projections are counted apart)."""
    if isinstance(module, nn.ConvTranspose1d):
        return x.numel() * (module.out_channels // module.groups) * module.kernel_size[0]
    if isinstance(module, nn.Conv1d):
        return out.numel() * (module.in_channels // module.groups) * module.kernel_size[0]
    if isinstance(module, nn.Linear):
        return out.numel() * module.in_features
    batch, frames, dim = x.shape  # SelfAttention: scores = q @ k^T and out = probs @ v
    return 2 * batch * frames * frames * dim


def profile_encoder(encoder: Encoder, seconds: float, name: str = "model",
                    heads: dict[str, Tensor] | None = None, source: str = "") -> ModelProfile:
    """Profile ``encoder`` on ``seconds`` of audio (run on its own device; use a ``meta`` one for speed)."""
    config = encoder.config
    samples = int(round(seconds * config.sample_rate))
    device = next(encoder.parameters()).device
    macs = count_macs(encoder.eval(), torch.zeros(1, samples, device=device))
    params = {n: p.numel() for n, p in encoder.named_parameters()}
    total = sum(params.values())
    heads_params = sum(t.numel() for t in (heads or {}).values())
    reported, parts = reported_parameters(config, total, heads)
    return ModelProfile(
        name=name, seconds=seconds, samples=samples, frames=config.num_frames(samples), dim=config.dim,
        layers=config.layers, frame_rate_hz=config.sample_rate / config.frame_stride,
        frame_hop_ms=config.frame_hop_ms, params=total,
        folded_params=total - (config.pos_conv_kernel if encoder.weight_normed else 0),
        macs=sum(macs.values()), blocks=_blocks(config, params, macs), heads_params=heads_params,
        reported_params=reported, reported_parts=parts, source=source, config=config,
    )


def profile_config(config: EncoderConfig, seconds: float, name: str = "model",
                   heads: dict[str, Tensor] | None = None, source: str = "") -> ModelProfile:
    """Profile the encoder ``config`` describes, built on the ``meta`` device (no weights, no arithmetic)."""
    with torch.device("meta"):
        encoder = build_encoder(config)
    return profile_encoder(encoder, seconds, name, heads, source)


def reported_parameters(config: EncoderConfig, backbone: int,
                        heads: dict[str, Tensor] | None) -> tuple[int | None, dict[str, int]]:
    """The FitHuBERT paper's count ("22.49M"): backbone + the final hint head + the unused top-level upsampler.

    Only for students with a time reduction (the heads upsample back to 20 ms). Taken from the checkpoint's
    ``proj_head.{last}.*`` and ``upsampler.*`` heads when present, else from the config.
    """
    if not config.time_reduction:
        return None, {}
    last = f"proj_head.{config.layers - 1}."
    if heads and any(k.startswith(last) for k in heads) and any(k.startswith("upsampler.") for k in heads):
        final = sum(t.numel() for k, t in heads.items() if k.startswith(last))
        upsampler = sum(t.numel() for k, t in heads.items() if k.startswith("upsampler."))
    else:
        f, d = config.time_reduction_factor, config.dim
        upsampler = d * d * f + d  # ConvTranspose1d(dim, dim, f, stride f)
        final = upsampler + d * TEACHER_DIM + TEACHER_DIM  # + Linear(dim -> 768)
    parts = {"backbone": backbone, "final hint head": final, "unused upsampler": upsampler}
    return backbone + final + upsampler, parts


def _blocks(config: EncoderConfig, params: dict[str, int], macs: dict[str, int]) -> tuple[BlockProfile, ...]:
    def total(values: dict[str, int], prefix: str) -> int:
        return sum(v for k, v in values.items() if k.startswith(prefix) or k + "." == prefix)

    blocks = [BlockProfile(label, total(params, prefix), total(macs, prefix))
              for prefix, label in BLOCKS if any(k.startswith(prefix) for k in params) or total(macs, prefix)]
    per_layer = [(total(params, f"encoder.layers.{i}."), total(macs, f"encoder.layers.{i}."))
                 for i in range(config.layers)]
    start = 0
    for i in range(1, config.layers + 1):  # one row per run of identical layers
        if i == config.layers or per_layer[i] != per_layer[start]:
            label = f"layer {start + 1}" if i - start == 1 else f"layers {start + 1}-{i} ({i - start} x)"
            blocks.append(BlockProfile(label, sum(p for p, _ in per_layer[start:i]),
                                       sum(m for _, m in per_layer[start:i])))
            start = i
    return tuple(blocks)


def compare(profiles: list[ModelProfile]) -> dict[str, Any]:
    """Ratios of every model to the largest one (by parameters): parameters, as-reported parameters, MACs."""
    reference = max(profiles, key=lambda p: p.params)
    rows = []
    for p in profiles:
        row = {"name": p.name, "params_ratio": p.params / reference.params, "macs_ratio": p.macs / reference.macs}
        if p.reported_params is not None:
            row["reported_params_ratio"] = p.reported_params / reference.params
        rows.append(row)
    return {"reference": reference.name, "models": rows}


def is_structurally(config: EncoderConfig, other: EncoderConfig) -> bool:
    """Same architecture (dropouts, LayerDrop and normalisation aside)."""
    ignored = re.compile(r"dropout|layer_drop")
    a = {k: v for k, v in config.to_dict().items() if not ignored.search(k)}
    b = {k: v for k, v in other.to_dict().items() if not ignored.search(k)}
    return a == b
