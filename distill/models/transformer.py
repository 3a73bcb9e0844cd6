"""Transformer blocks of the encoder: positional conv, feed-forward, post-/pre-LN layers, the stack."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm


class PositionalConvEmbedding(nn.Module):
    """Grouped conv over time, weight-normalised along the kernel axis (dim 2) as in fairseq ``pos_conv``.

    An even kernel with ``padding = kernel // 2`` yields one frame too many; the last one is dropped.
    ``causal``: pad ``kernel - 1`` frames on the left only, so that no frame's term depends on later frames
    (a streaming-friendly model's, see ``EncoderConfig.pos_conv_causal``); the weights keep their shape.
    Weight norm is a training-time parametrisation: :meth:`fold_weight_norm` bakes it into a plain weight
    for inference and export.
    """

    def __init__(self, dim: int, kernel: int, groups: int, causal: bool = False) -> None:
        super().__init__()
        padding = 0 if causal else kernel // 2
        self.conv = weight_norm(nn.Conv1d(dim, dim, kernel, padding=padding, groups=groups), name="weight", dim=2)
        self.left_pad = kernel - 1 if causal else 0
        self.trim = 1 if kernel % 2 == 0 and not causal else 0

    @property
    def weight_normed(self) -> bool:
        return parametrize.is_parametrized(self.conv, "weight")

    def fold_weight_norm(self) -> None:
        if self.weight_normed:
            parametrize.remove_parametrizations(self.conv, "weight", leave_parametrized=True)

    def forward(self, x: Tensor) -> Tensor:
        """``(batch, frames, dim)`` to the positional term of the same shape."""
        x = x.transpose(1, 2)
        if self.left_pad:
            x = nn.functional.pad(x, (self.left_pad, 0))
        y = self.conv(x)
        if self.trim:
            y = y[:, :, : -self.trim]
        return nn.functional.gelu(y).transpose(1, 2)


class FeedForward(nn.Module):
    """Linear, GELU, dropout, Linear, dropout (fairseq ``fc1``/``fc2``)."""

    def __init__(self, dim: int, ffn_dim: int, activation_dropout: float, dropout: float) -> None:
        super().__init__()
        self.intermediate_dense = nn.Linear(dim, ffn_dim)
        self.intermediate_dropout = nn.Dropout(activation_dropout)
        self.output_dense = nn.Linear(ffn_dim, dim)
        self.output_dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        x = self.intermediate_dropout(nn.functional.gelu(self.intermediate_dense(x)))
        return self.output_dropout(self.output_dense(x))


class EncoderLayer(nn.Module):
    """One transformer layer, post-LN (HuBERT Base) or pre-LN (``layer_norm_first``, HuBERT Large)."""

    def __init__(self, attention: nn.Module, feed_forward: FeedForward, dim: int, dropout: float,
                 layer_norm_first: bool, eps: float) -> None:
        super().__init__()
        self.attention = attention
        self.dropout = nn.Dropout(dropout)
        self.layer_norm = nn.LayerNorm(dim, eps=eps)
        self.feed_forward = feed_forward
        self.final_layer_norm = nn.LayerNorm(dim, eps=eps)
        self.layer_norm_first = layer_norm_first

    def forward(self, x: Tensor, attention_bias: Tensor | None = None) -> Tensor:
        if self.layer_norm_first:
            x = x + self.dropout(self.attention(self.layer_norm(x), attention_bias))
            return x + self.feed_forward(self.final_layer_norm(x))
        x = self.layer_norm(x + self.dropout(self.attention(x, attention_bias)))
        return self.final_layer_norm(x + self.feed_forward(x))


class TimeReduction(nn.Module):
    """Merge ``factor`` consecutive frames into one (FitHuBERT's TR layer).

    Kinds: ``conv1d`` (Conv1d, kernel = stride = factor, with bias; the paper's), ``avgpool`` (mean of
    the frames, no parameters) and ``concat`` (stack the frames, then Linear back to ``dim``). Trailing
    frames that do not fill a group are dropped: ``T' = T // factor``.
    """

    def __init__(self, kind: str, dim: int, factor: int) -> None:
        super().__init__()
        self.kind, self.factor = kind, factor
        if kind == "conv1d":
            self.conv = nn.Conv1d(dim, dim, factor, stride=factor)
        elif kind == "concat":
            self.proj = nn.Linear(dim * factor, dim)

    def forward(self, x: Tensor) -> Tensor:
        b, t, d = x.shape
        t_out = t // self.factor
        if self.kind == "conv1d":
            return self.conv(x.transpose(1, 2)).transpose(1, 2)
        grouped = x[:, : t_out * self.factor].reshape(b, t_out, self.factor * d)
        if self.kind == "concat":
            return self.proj(grouped)
        return grouped.view(b, t_out, self.factor, d).mean(dim=2)

    def output_lengths(self, lengths: Tensor) -> Tensor:
        # A merged frame is padding if any of its source frames was.
        return torch.div(lengths, self.factor, rounding_mode="floor")


class Transformer(nn.Module):
    """Positional conv, input LayerNorm (post-LN only), optional time reduction, the layers, final LN (pre-LN).

    ``hidden_states[0]`` is the input to the first layer, i.e. *after* the time reduction; ``hidden_states[i]``
    the output of layer ``i``. As in transformers, pre-LN models apply their final LayerNorm to the last
    hidden state only, not to ``hidden_states[-1]``.

    ``attention_chunk`` > 0 limits every layer's attention to the frame's chunk plus ``attention_left`` frames
    before it (:func:`chunk_attention_bias`), counted from the first frame of the input.
    """

    def __init__(self, pos_conv: PositionalConvEmbedding, layers: list[EncoderLayer], dim: int, dropout: float,
                 layer_norm_first: bool, eps: float, time_reduction: TimeReduction | None, layer_drop: float,
                 attention_chunk: int = 0, attention_left: int = 0) -> None:
        super().__init__()
        self.attention_chunk, self.attention_left = attention_chunk, attention_left
        self.pos_conv_embed = pos_conv
        self.layer_norm = nn.LayerNorm(dim, eps=eps)
        self.dropout = nn.Dropout(dropout)
        self.time_reduction = time_reduction
        self.layers = nn.ModuleList(layers)
        self.layer_norm_first = layer_norm_first
        self.layer_drop = layer_drop

    def forward(self, x: Tensor, mask: Tensor | None,
                lengths: Tensor | None) -> tuple[Tensor, list[Tensor], Tensor | None]:
        """Args: ``x`` ``(batch, frames, dim)``; ``mask`` ``(batch, frames)`` true for real frames, or ``None``.

        Returns the last hidden state, all hidden states and the output lengths after time reduction.
        """
        if mask is not None:
            x = x * mask.unsqueeze(-1).to(x.dtype)
        x = x + self.pos_conv_embed(x)
        if not self.layer_norm_first:
            x = self.layer_norm(x)
        x = self.dropout(x)
        if self.time_reduction is not None:
            x = self.time_reduction(x)
            if lengths is not None:
                lengths = self.time_reduction.output_lengths(lengths)
        bias = _attention_bias(lengths, x.shape[1], x.dtype) if lengths is not None else None
        if self.attention_chunk:
            chunked = chunk_attention_bias(x.shape[1], self.attention_chunk, self.attention_left, x)
            bias = chunked if bias is None else bias + chunked
        states = [x]
        for layer in self.layers:
            # LayerDrop: only while training, so the inference graph has no random numbers.
            if self.training and self.layer_drop > 0 and torch.rand(()) < self.layer_drop:
                states.append(x)
                continue
            x = layer(x, bias)
            states.append(x)
        last = self.layer_norm(x) if self.layer_norm_first else x
        return last, states, lengths


# What a masked-out score gets. Finite, not -inf: a row of all padding then stays finite instead of NaN. And
# moderate, not -1e9: static int8 recipes (XNNPACK's, ONNX Runtime's) round the masked scores on one per-tensor
# grid with the others, and a -1e9 in that tensor rounds every real score to 0, which made a chunked-attention
# student's int8 artifacts attend uniformly (cosine 0.81 against float, 0.98 with this value). In float a masked
# key's weight, exp(-100) = 4e-44 next to a visible key's (scores of trained students stay within tens), is below
# float32's resolution: no weight at all.
MASKED_SCORE = -100.0


def _attention_bias(lengths: Tensor, frames: int, dtype: torch.dtype) -> Tensor:
    valid = torch.arange(frames, device=lengths.device)[None, :] < lengths[:, None]
    return ((~valid).to(dtype) * MASKED_SCORE)[:, None, None, :]


def chunk_attention_bias(frames: int, chunk: int, left: int, like: Tensor) -> Tensor:
    """``(1, 1, frames, frames)`` scores bias: 0 where query frame ``i`` may see key frame ``j``, else
    :data:`MASKED_SCORE`.

    Frame ``i`` lies in the chunk starting at ``s = (i // chunk) * chunk`` and sees ``s - left <= j < s + chunk``,
    that is ``j // chunk <= i // chunk <= (j + left) // chunk``. Built from frame indices (dtype and device of
    ``like``), not stored: it follows any input length, and a static-shape export folds it into a constant.
    Comparisons of floor divisions only: int8 quantizers annotate every ``mul`` and ``add`` whatever its dtype,
    and LiteRT's static calibration then fails on observers of integer frame arithmetic.
    """
    def chunk_of(first: int) -> Tensor:
        return torch.div(torch.arange(first, first + frames, device=like.device), chunk, rounding_mode="floor")

    own = chunk_of(0)
    query, key, reach = own[:, None], own[None, :], chunk_of(left)[None, :]
    visible = (key <= query) & (reach >= query)
    return ((~visible).to(like.dtype) * MASKED_SCORE)[None, None]
