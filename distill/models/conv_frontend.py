"""The convolutional feature extractor: raw 16 kHz audio to 20 ms frames."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class ChannelLayerNorm(nn.LayerNorm):
    """LayerNorm over the channels of a ``(batch, channels, frames)`` tensor."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU}


class MuLaw(nn.Module):
    """mu-law companding of audio in [-1, 1]: ``sign(x) ln(1 + mu |x|) / ln(1 + mu)`` (G.711's curve, unquantized).

    An 8-bit per-tensor grid over raw audio keeps about 48 dB below the loudest sample, so the quiet frames of an
    utterance round to zero before the first conv sees them. Companded, a frame 56 dB down still spans several
    steps of that grid, and the first conv's input and output stay int8-friendly.
    """

    def __init__(self, mu: float) -> None:
        super().__init__()
        self.mu = float(mu)

    def forward(self, wav: Tensor) -> Tensor:
        # XNNPACK has neither sign nor log1p: written with log and a clamp, the compander runs inside the
        # delegate. The clamp is sign(x) wherever |x| >= 2**-24, far below 16-bit audio's last bit.
        sign = torch.clamp(wav * 2.0**24, -1.0, 1.0)
        return sign * torch.log(1.0 + self.mu * wav.abs()) / math.log1p(self.mu)

    def extra_repr(self) -> str:
        return f"mu={self.mu:g}"


class ConvLayerBlock(nn.Module):
    """Conv1d, an optional norm, an activation (GELU or ReLU): one layer of the feature extractor.

    Args:
        in_channels, out_channels, kernel, stride, bias: the Conv1d's.
        norm: ``None``, a GroupNorm or a :class:`ChannelLayerNorm` applied after the conv.
        activation: a key of :data:`ACTIVATIONS`.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int, bias: bool,
                 norm: nn.Module | None, activation: str = "gelu") -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.conv = nn.Conv1d(in_channels, out_channels, kernel, stride=stride, bias=bias)
        self.layer_norm = norm
        self.activation = ACTIVATIONS[activation]()

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        if self.layer_norm is not None:
            x = self.layer_norm(x)
        return self.activation(x)

    def output_lengths(self, lengths: Tensor) -> Tensor:
        return torch.div(lengths - self.kernel, self.stride, rounding_mode="floor") + 1


class FeatureExtractor(nn.Module):
    """A stack of :class:`ConvLayerBlock`; ``(batch, samples)`` to ``(batch, frames, channels)``.

    ``compand``, if given (a :class:`MuLaw`), maps the audio before the first conv.
    """

    def __init__(self, blocks: list[ConvLayerBlock], compand: nn.Module | None = None) -> None:
        super().__init__()
        self.compand = compand
        self.conv_layers = nn.ModuleList(blocks)

    def forward(self, wav: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        x = wav.unsqueeze(1)
        if self.compand is not None:  # after the unsqueeze, which XNNPACK leaves out: one delegated partition
            x = self.compand(x)
        for block in self.conv_layers:
            x = block(x)
            if lengths is not None:
                lengths = block.output_lengths(lengths).clamp(min=0)
        return x.transpose(1, 2), lengths


def build_feature_extractor(conv_layers: tuple[tuple[int, int, int], ...], mode: str, bias: bool,
                            activation: str = "gelu", mu_law: float = 0.0) -> FeatureExtractor:
    """Build the extractor from a ``(channels, kernel, stride)`` spec.

    ``mode="group_norm"`` puts a per-channel GroupNorm after the first conv only (HuBERT Base);
    ``mode="layer_norm"`` puts a LayerNorm over channels after every conv ("stable layer norm" models);
    ``mode="frame_layer_norm"`` puts a LayerNorm over channels after the first conv only (per frame; the
    parameters have the GroupNorm's names and shapes). ``mu_law > 0`` compands the audio first (:class:`MuLaw`).
    """
    blocks, in_ch = [], 1
    for i, (out_ch, kernel, stride) in enumerate(conv_layers):
        if mode == "layer_norm" or (mode == "frame_layer_norm" and i == 0):
            norm: nn.Module | None = ChannelLayerNorm(out_ch)
        elif mode == "group_norm" and i == 0:
            norm = nn.GroupNorm(out_ch, out_ch, affine=True)
        else:
            norm = None
        blocks.append(ConvLayerBlock(in_ch, out_ch, kernel, stride, bias, norm, activation))
        in_ch = out_ch
    return FeatureExtractor(blocks, MuLaw(mu_law) if mu_law > 0 else None)
