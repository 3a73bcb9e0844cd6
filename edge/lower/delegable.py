"""Normalisation layers rewritten as ops the ExecuTorch XNNPACK delegate takes, so the graph stays in one piece.

XNNPACK has no LayerNorm or GroupNorm, so each one splits the ``.pte`` into another delegated subgraph with
a portable (slow, single-threaded) kernel in between. Its partitioner does take ``mean.dim`` on 4-D
tensors over dims (2, 3) with ``keepdim``, ``sub``, ``mul``, ``add`` and ``rsqrt``: a normalisation over
one axis is exactly that once the axis is viewed as ``(..., n, 1)``. The arithmetic is the textbook
LayerNorm (biased variance), so the result matches ``nn.LayerNorm`` to float rounding.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from fitedge.distill.models.attention import SelfAttention
from fitedge.distill.models.conv_frontend import ChannelLayerNorm
from fitedge.distill.models.transformer import PositionalConvEmbedding


def _normalize_last_axis(x: Tensor, eps: float) -> Tensor:
    """Zero mean, unit variance over the last axis of a 3-D tensor, through 4-D means only."""
    x4 = x.unsqueeze(-1)  # (a, b, n, 1): mean over dims (2, 3) is the mean over n
    centred = x4 - x4.mean(dim=(2, 3), keepdim=True)
    variance = (centred * centred).mean(dim=(2, 3), keepdim=True)
    # reshape, not squeeze: XNNPACK takes view_copy but not squeeze_copy
    return (centred * (variance + eps).rsqrt()).reshape(_inferred(x.shape))


def _inferred(shape: torch.Size) -> list[int]:
    """``shape`` with a symbolic (dynamic) dim written as -1: XNNPACK reshapes only with concrete sizes."""
    return [s if isinstance(s, int) else -1 for s in shape]


class DelegableLayerNorm(nn.Module):
    """``nn.LayerNorm`` over the last axis of ``(batch, frames, dim)``; same parameters."""

    def __init__(self, norm: nn.LayerNorm) -> None:
        super().__init__()
        self.eps = norm.eps
        self.weight, self.bias = norm.weight, norm.bias

    def forward(self, x: Tensor) -> Tensor:
        return _normalize_last_axis(x, self.eps) * self.weight + self.bias


class DelegableChannelNorm(nn.Module):
    """Per-channel norm of ``(batch, channels, frames)``: ``GroupNorm(C, C)`` (statistics over time) or
    :class:`ChannelLayerNorm` (statistics over channels)."""

    def __init__(self, norm: nn.GroupNorm | ChannelLayerNorm) -> None:
        super().__init__()
        self.over_time = isinstance(norm, nn.GroupNorm)
        self.eps = norm.eps
        self.weight, self.bias = norm.weight, norm.bias

    def forward(self, x: Tensor) -> Tensor:
        if self.over_time:
            return _normalize_last_axis(x, self.eps) * self.weight[:, None] + self.bias[:, None]
        y = _normalize_last_axis(x.transpose(1, 2), self.eps) * self.weight + self.bias
        return y.transpose(1, 2)


class DelegableAttention(nn.Module):
    """:class:`SelfAttention` with the head products as 3-D ``bmm``: a 4-D matmul decomposes into
    ``expand_copy`` nodes that XNNPACK does not take. Same projections, same arithmetic."""

    def __init__(self, attention: SelfAttention) -> None:
        super().__init__()
        self.heads, self.head_dim, self.scaling = attention.heads, attention.head_dim, attention.scaling
        self.q_proj, self.k_proj = attention.q_proj, attention.k_proj
        self.v_proj, self.out_proj = attention.v_proj, attention.out_proj

    def forward(self, x: Tensor, attention_bias: Tensor | None = None) -> Tensor:
        # The frame count is written -1 in every view, so that a dynamic length still delegates.
        b, t, d = x.shape
        h, hd = self.heads, self.head_dim
        q = (self.q_proj(x) * self.scaling).view(b, -1, h, hd).transpose(1, 2).reshape(b * h, -1, hd)
        k = self.k_proj(x).view(b, -1, h, hd).permute(0, 2, 3, 1).reshape(b * h, hd, -1)
        v = self.v_proj(x).view(b, -1, h, hd).transpose(1, 2).reshape(b * h, -1, hd)
        scores = torch.bmm(q, k)
        if attention_bias is not None:
            scores = (scores.view(b, h, t, t) + attention_bias).view(b * h, t, t)
        out = torch.bmm(scores.softmax(dim=-1), v)
        return self.out_proj(out.view(b, h, -1, hd).transpose(1, 2).reshape(b, -1, d))


class DelegablePositionalConv(nn.Module):
    """:class:`PositionalConvEmbedding` with the even kernel's extra frame never computed: pad one frame less
    on the right instead of slicing it off afterwards (a slice over a dynamic length does not delegate).
    A causal one keeps its ``kernel - 1`` frames of left padding and none on the right."""

    def __init__(self, pos_conv: PositionalConvEmbedding) -> None:
        super().__init__()
        if pos_conv.weight_normed:
            raise ValueError("fold weight norm before export")
        conv = pos_conv.conv
        self.pad = (conv.padding[0] + pos_conv.left_pad, conv.padding[0] - pos_conv.trim)
        self.conv = nn.Conv1d(conv.in_channels, conv.out_channels, conv.kernel_size[0], groups=conv.groups)
        self.conv.weight, self.conv.bias = conv.weight, conv.bias

    def forward(self, x: Tensor) -> Tensor:
        y = self.conv(nn.functional.pad(x.transpose(1, 2), self.pad))
        return nn.functional.gelu(y).transpose(1, 2)


def xnnpack_friendly(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` with attention, LayerNorm and per-channel GroupNorm replaced by delegable twins."""
    module = copy.deepcopy(module)
    for parent in list(module.modules()):
        for name, child in parent.named_children():
            replacement = _replacement(child)
            if replacement is not None:
                setattr(parent, name, replacement)
    return module


def norm_modules(module: nn.Module) -> list[str]:
    """Names of the delegable norms in ``module``: the int8 recipe keeps them float (inside the same XNNPACK
    partition), because their mean/variance arithmetic loses more in int8 than it gains."""
    return [n for n, m in module.named_modules() if isinstance(m, (DelegableLayerNorm, DelegableChannelNorm))]


def _replacement(child: nn.Module) -> nn.Module | None:
    if isinstance(child, SelfAttention):
        return DelegableAttention(child)
    if isinstance(child, PositionalConvEmbedding):
        return DelegablePositionalConv(child)
    if isinstance(child, ChannelLayerNorm) and child.elementwise_affine:
        return DelegableChannelNorm(child)
    if isinstance(child, nn.GroupNorm) and child.num_groups == child.num_channels and child.affine:
        return DelegableChannelNorm(child)
    if type(child) is nn.LayerNorm and child.elementwise_affine and child.bias is not None and \
            len(child.normalized_shape) == 1:
        return DelegableLayerNorm(child)
    return None
