"""The encoder: feature extractor, feature projection, transformer; built from an :class:`EncoderConfig`.

Parameter names match transformers' ``HubertModel``/``Wav2Vec2Model`` state dicts, so a fitedge
``model.safetensors`` and a transformers one differ only in the weight-norm key style.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor, nn

from fitedge.distill.models.attention import SelfAttention
from fitedge.distill.models.config import EncoderConfig
from fitedge.distill.models.conv_frontend import FeatureExtractor, build_feature_extractor
from fitedge.distill.models.transformer import (
    EncoderLayer,
    FeedForward,
    PositionalConvEmbedding,
    TimeReduction,
    Transformer,
)
from fitedge.errors import ShapeMismatch


class EncoderOutput(NamedTuple):
    """What :meth:`Encoder.forward` returns.

    Attributes:
        last_hidden_state: ``(batch, frames, dim)``, the output of the last layer (after the final
            LayerNorm in pre-LN models, which ``hidden_states[-1]`` does not have, as in transformers).
        hidden_states: ``layers + 1`` tensors ``(batch, frames, dim)``: ``[0]`` is the input to the first
            transformer layer (after the time reduction, when there is one), ``[i]`` the output of layer ``i``.
        lengths: ``(batch,)`` valid output frames per utterance, or ``None`` when no lengths were given.
    """

    last_hidden_state: Tensor
    hidden_states: tuple[Tensor, ...]
    lengths: Tensor | None


class FeatureProjection(nn.Module):
    """Optional LayerNorm over the extractor channels, Linear to the model width, dropout."""

    def __init__(self, in_dim: int, dim: int, dropout: float, layer_norm: bool, eps: float) -> None:
        super().__init__()
        self.layer_norm = nn.LayerNorm(in_dim, eps=eps) if layer_norm else None
        self.projection = nn.Linear(in_dim, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        if self.layer_norm is not None:
            x = self.layer_norm(x)
        return self.dropout(self.projection(x))


class Encoder(nn.Module):
    """A wav2vec2/HuBERT-family encoder: 16 kHz audio in, frame features out.

    Build it with :func:`build_encoder` (or ``fitedge.load``); the constructor takes built modules.
    For inference and export call :meth:`for_inference`: eval mode and weight norm folded.
    """

    def __init__(self, config: EncoderConfig, feature_extractor: FeatureExtractor,
                 feature_projection: FeatureProjection, encoder: Transformer) -> None:
        super().__init__()
        self.config = config
        self.feature_extractor = feature_extractor
        self.feature_projection = feature_projection
        self.encoder = encoder
        # Where the weights came from ("source") and whether they are trained; set by the loaders.
        self.meta: dict = {"source": "built", "trained": False}

    def forward(self, wav: Tensor, lengths: Tensor | None = None) -> EncoderOutput:
        """Encode audio.

        Args:
            wav: ``(batch, samples)`` float audio at 16 kHz, roughly in [-1, 1].
            lengths: ``(batch,)`` valid samples per utterance, or ``None`` when nothing is padded.
        """
        if wav.dim() != 2:
            raise ShapeMismatch(f"expected audio of shape (batch, samples), got {tuple(wav.shape)}")
        if self.config.normalize_waveform:
            wav = _normalize(wav, lengths)
        features, frame_lengths = self.feature_extractor(wav, lengths)
        x = self.feature_projection(features)
        mask = None
        if frame_lengths is not None:
            mask = torch.arange(x.shape[1], device=x.device)[None, :] < frame_lengths[:, None]
        last, states, out_lengths = self.encoder(x, mask, frame_lengths)
        return EncoderOutput(last, tuple(states), out_lengths)

    # ---- inference helpers ------------------------------------------------------------------
    @property
    def weight_normed(self) -> bool:
        return self.encoder.pos_conv_embed.weight_normed

    def fold_weight_norm(self) -> Encoder:
        """Replace the positional conv's weight-norm parametrisation by the plain weight it computes."""
        self.encoder.pos_conv_embed.fold_weight_norm()
        return self

    def for_inference(self) -> Encoder:
        """Eval mode (no dropout, no LayerDrop) with weight norm folded: the graph that gets exported."""
        return self.fold_weight_norm().eval()

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # ---- fitedge checkpoint folders, as transformers' models have them --------------------------
    def save_pretrained(self, directory: str | Path, heads: dict[str, Tensor] | None = None) -> Path:
        """Write this encoder as a fitedge checkpoint folder (``config.json`` + ``model.safetensors``), atomically.

        ``meta`` goes along (an untrained preset stays flagged untrained); ``heads`` (e.g. hint heads) are
        written to ``heads.safetensors``. Read it back with :meth:`from_pretrained`, ``fitedge.load`` or any
        fitedge command.

        Example::

            enc = fitedge.load("tiny")
            enc.save_pretrained("tiny-encoder/")
            same = Encoder.from_pretrained("tiny-encoder/")
        """
        from fitedge.distill.models.pretrained import save_pretrained

        return save_pretrained(self, directory, heads)

    @classmethod
    def from_pretrained(cls, source: str | Path) -> Encoder:
        """The encoder saved in a fitedge checkpoint folder, or under a Hugging Face id (``ORG/NAME[@REVISION]``,
        through the hub cache; ``HF_HUB_OFFLINE=1`` is honoured) whose snapshot is such a folder.

        Other formats (transformers, fairseq, torchaudio, FitHuBERT) go through ``fitedge.load``.
        """
        from fitedge.distill.models.pretrained import from_pretrained

        return from_pretrained(source)


def build_encoder(config: EncoderConfig) -> Encoder:
    """Build an :class:`Encoder` with freshly initialised weights from ``config``."""
    c = config
    extractor = build_feature_extractor(c.conv_layers, c.extractor_mode, c.conv_bias, c.conv_activation, c.mu_law)
    projection = FeatureProjection(c.conv_layers[-1][0], c.dim, c.feature_dropout, c.feature_layer_norm,
                                   c.layer_norm_eps)
    layers = [
        EncoderLayer(
            SelfAttention(c.dim, c.heads, c.attention_dropout),
            FeedForward(c.dim, c.ffn_dim, c.activation_dropout, c.dropout),
            c.dim, c.dropout, c.layer_norm_first, c.layer_norm_eps,
        )
        for _ in range(c.layers)
    ]
    reduction = TimeReduction(c.time_reduction, c.dim, c.time_reduction_factor) if c.time_reduction else None
    transformer = Transformer(
        PositionalConvEmbedding(c.dim, c.pos_conv_kernel, c.pos_conv_groups, c.pos_conv_causal), layers, c.dim,
        c.dropout, c.layer_norm_first, c.layer_norm_eps, reduction, c.layer_drop,
        c.attention_chunk_frames, c.attention_left_frames,
    )
    return Encoder(config, extractor, projection, transformer)


def _normalize(wav: Tensor, lengths: Tensor | None) -> Tensor:
    """Zero mean, unit variance per utterance over its valid samples (wav2vec2's ``do_normalize``)."""
    if lengths is None:
        return nn.functional.layer_norm(wav, wav.shape[-1:], eps=1e-7)
    valid = (torch.arange(wav.shape[1], device=wav.device)[None, :] < lengths[:, None]).to(wav.dtype)
    n = valid.sum(dim=1, keepdim=True).clamp(min=1)
    mean = (wav * valid).sum(dim=1, keepdim=True) / n
    var = (((wav - mean) * valid) ** 2).sum(dim=1, keepdim=True) / n
    return (wav - mean) / torch.sqrt(var + 1e-7) * valid
