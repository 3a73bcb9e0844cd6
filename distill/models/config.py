"""Encoder configuration: one frozen dataclass for the whole wav2vec2/HuBERT family, and its presets.

Field names follow transformers' ``HubertConfig`` where one exists (``hidden_size`` is ``dim`` here) and
the docstring names the fairseq option, so that checkpoint import is a plain translation.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fitedge.audio import SAMPLE_RATE
from fitedge.errors import ConfigError, UnknownPreset

ConvSpec = tuple[tuple[int, int, int], ...]
"""Conv feature extractor layers as ``(channels, kernel, stride)``; fairseq's ``conv_feature_layers``."""

EXTRACTOR_MODES = ("group_norm", "layer_norm", "frame_layer_norm")
CONV_ACTIVATIONS = ("gelu", "relu")
TIME_REDUCTIONS = (None, "conv1d", "avgpool", "concat")

HUBERT_CONV: ConvSpec = ((512, 10, 5),) + ((512, 3, 2),) * 4 + ((512, 2, 2),) * 2
FITHUBERT_CONV: ConvSpec = (
    (128, 10, 5),
    (256, 1, 1),
    *((256, 3, 2),) * 4,
    (512, 1, 1),
    *((512, 2, 2),) * 2,
)


@dataclass(frozen=True)
class EncoderConfig:
    """Architecture of a wav2vec2/HuBERT-style encoder.

    Attributes:
        conv_layers: feature extractor spec, ``(channels, kernel, stride)`` per layer.
        conv_bias: bias in the feature extractor convs (fairseq ``conv_bias``).
        extractor_mode: ``group_norm`` (GroupNorm after the first conv only, HuBERT Base) or
            ``layer_norm`` (LayerNorm after every conv, "stable layer norm" models); fairseq ``extractor_mode``.
            ``frame_layer_norm`` (fitedge's own, for deployment): a LayerNorm over channels after the first conv
            only, in place of its GroupNorm, which normalises each channel over the whole input; per frame, it
            needs no look at the rest of the audio (live speech) and keeps int8 ranges local.
        conv_activation: ``gelu`` (the family's) or ``relu`` in the feature extractor; a ReLU right after a
            conv fuses into it in the int8 recipes (XNNPACK's conv+relu pattern), a GELU does not.
        mu_law: compand the audio with mu-law of this mu before the first conv (fitedge's own, for int8; 255 as
            in G.711): an 8-bit grid over raw audio loses the frames 48 dB below the loudest, a companded one keeps
            them. 0: off (the family's).
        feature_layer_norm: LayerNorm on the extracted features before the projection.
        dim: transformer width (fairseq ``encoder_embed_dim``).
        layers: number of transformer layers.
        heads: attention heads; ``dim`` must divide evenly.
        ffn_dim: feed-forward inner width.
        layer_norm_first: pre-LN layers with a final LayerNorm ("stable layer norm") instead of post-LN.
        pos_conv_kernel: positional conv kernel (fairseq ``conv_pos``).
        pos_conv_groups: positional conv groups (fairseq ``conv_pos_groups``).
        pos_conv_causal: pad the positional conv on the left only (fitedge's own, for streaming): a frame's
            positional term then looks back ``pos_conv_kernel - 1`` frames and not ahead, so a stream needs no
            right context for it; the family's conv is centred and looks ``pos_conv_kernel // 2`` frames ahead.
        attention_chunk_frames: chunked self-attention (fitedge's own, for streaming), in output frames (after
            the time reduction): frames are grouped into chunks of this many from the first, and a frame attends
            to its own chunk and ``attention_left_frames`` frames before it, nothing later. The mask is part of
            the model, in training and in the full-utterance forward, so a sliding-window stream aligned on the
            chunks reproduces the full-utterance output. 0: every frame attends to every frame (the family's).
        attention_left_frames: left context of a chunk, in output frames (with ``attention_chunk_frames``).
        time_reduction: ``None``, ``conv1d`` (FitHuBERT), ``avgpool`` or ``concat``; applied after the
            encoder's input LayerNorm, right before the first transformer layer.
        time_reduction_factor: frames merged into one by the time reduction.
        dropout: residual dropout in the transformer (fairseq ``dropout``).
        attention_dropout: dropout on attention probabilities.
        activation_dropout: dropout after the FFN activation.
        feature_dropout: dropout after the feature projection (fairseq ``dropout_input``).
        layer_drop: probability of skipping a layer while training (0 at inference, always).
        layer_norm_eps: epsilon of every LayerNorm.
        normalize_waveform: whether the model expects zero-mean unit-variance audio per utterance
            (``Wav2Vec2FeatureExtractor.do_normalize``); the encoder applies it itself when set.
        sample_rate: audio sample rate the model was trained on.
    """

    conv_layers: ConvSpec = HUBERT_CONV
    conv_bias: bool = False
    extractor_mode: str = "group_norm"
    conv_activation: str = "gelu"
    mu_law: float = 0.0
    feature_layer_norm: bool = True
    dim: int = 768
    layers: int = 12
    heads: int = 12
    ffn_dim: int = 3072
    layer_norm_first: bool = False
    pos_conv_kernel: int = 128
    pos_conv_groups: int = 16
    pos_conv_causal: bool = False
    attention_chunk_frames: int = 0
    attention_left_frames: int = 0
    time_reduction: str | None = None
    time_reduction_factor: int = 2
    dropout: float = 0.1
    attention_dropout: float = 0.1
    activation_dropout: float = 0.0
    feature_dropout: float = 0.1
    layer_drop: float = 0.0
    layer_norm_eps: float = 1e-5
    normalize_waveform: bool = False
    sample_rate: int = SAMPLE_RATE

    def __post_init__(self) -> None:
        object.__setattr__(self, "conv_layers", tuple(tuple(int(v) for v in c) for c in self.conv_layers))
        if not self.conv_layers or any(len(c) != 3 or min(c) < 1 for c in self.conv_layers):
            raise ConfigError(
                f"conv_layers must be non-empty (channels, kernel, stride) triples, got {self.conv_layers}")
        if self.extractor_mode not in EXTRACTOR_MODES:
            raise ConfigError(f"extractor_mode must be one of {EXTRACTOR_MODES}, got {self.extractor_mode!r}")
        if self.conv_activation not in CONV_ACTIVATIONS:
            raise ConfigError(f"conv_activation must be one of {CONV_ACTIVATIONS}, got {self.conv_activation!r}")
        if self.mu_law < 0:
            raise ConfigError(f"mu_law must be >= 0 (0: off), got {self.mu_law}")
        if self.time_reduction not in TIME_REDUCTIONS:
            raise ConfigError(f"time_reduction must be one of {TIME_REDUCTIONS}, got {self.time_reduction!r}")
        if self.time_reduction and self.time_reduction_factor < 2:
            raise ConfigError(f"time_reduction_factor must be >= 2, got {self.time_reduction_factor}")
        if min(self.dim, self.layers, self.heads, self.ffn_dim) < 1:
            raise ConfigError("dim, layers, heads and ffn_dim must all be positive")
        if self.dim % self.heads:
            raise ConfigError(f"dim {self.dim} is not divisible by heads {self.heads}")
        if self.dim % self.pos_conv_groups:
            raise ConfigError(f"dim {self.dim} is not divisible by pos_conv_groups {self.pos_conv_groups}")
        if self.attention_chunk_frames < 0 or self.attention_left_frames < 0:
            raise ConfigError(f"attention_chunk_frames and attention_left_frames must be >= 0, got "
                              f"{self.attention_chunk_frames} and {self.attention_left_frames}")
        if self.attention_left_frames and not self.attention_chunk_frames:
            raise ConfigError("attention_left_frames needs attention_chunk_frames (chunked attention)")
        for name in ("dropout", "attention_dropout", "activation_dropout", "feature_dropout", "layer_drop"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"{name} must be in [0, 1), got {getattr(self, name)}")

    # ---- derived quantities -------------------------------------------------------------------
    @property
    def conv_stride(self) -> int:
        """Samples between two extractor frames (320 for the whole family: 20 ms at 16 kHz)."""
        stride = 1
        for _, _, s in self.conv_layers:
            stride *= s
        return stride

    @property
    def receptive_field(self) -> int:
        """Samples that one extractor frame sees (400 for the whole family)."""
        field_, jump = 1, 1
        for _, k, s in self.conv_layers:
            field_ += (k - 1) * jump
            jump *= s
        return field_

    @property
    def reduction(self) -> int:
        """Extractor frames merged into one by the time reduction: ``time_reduction_factor``, or 1 without one."""
        return self.time_reduction_factor if self.time_reduction else 1

    @property
    def frame_stride(self) -> int:
        """Samples between two output frames, time reduction included."""
        return self.conv_stride * self.reduction

    @property
    def frame_hop_ms(self) -> float:
        return 1000.0 * self.frame_stride / self.sample_rate

    def num_frames(self, samples: int) -> int:
        """Output frames for an input of ``samples`` samples (0 when too short)."""
        n = samples
        for _, k, s in self.conv_layers:
            n = max((n - k) // s + 1, 0)
        if self.time_reduction:
            n //= self.time_reduction_factor
        return n

    # ---- (de)serialisation --------------------------------------------------------------------
    def replace(self, **changes: Any) -> EncoderConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["conv_layers"] = [list(c) for c in self.conv_layers]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EncoderConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown encoder config keys: {', '.join(unknown)}")
        return cls(**d)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> EncoderConfig:
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (json.JSONDecodeError, TypeError) as e:
            raise ConfigError(f"{path}: not a fitedge encoder config ({e})") from None


_BASE = EncoderConfig()

PRESETS: dict[str, EncoderConfig] = {
    "hubert-base": _BASE.replace(layer_drop=0.05),
    "hubert-large": _BASE.replace(
        extractor_mode="layer_norm", conv_bias=True, dim=1024, layers=24, heads=16, ffn_dim=4096, layer_norm_first=True,
        dropout=0.0, feature_dropout=0.0, layer_drop=0.1,
    ),
    "wav2vec2-base": _BASE.replace(layer_drop=0.05),
    "distilhubert": _BASE.replace(layers=2),
    # The paper's student exactly (fithubert.md): thin (480) and deep (12), FFN 480, conv1d time reduction.
    "fithubert": EncoderConfig(
        conv_layers=FITHUBERT_CONV, dim=480, layers=12, heads=12, ffn_dim=480,
        time_reduction="conv1d", time_reduction_factor=2,
        dropout=0.1, attention_dropout=0.1, activation_dropout=0.1, feature_dropout=0.05,
    ),
    # A few small layers: unit tests and quick demos run it in milliseconds.
    "tiny": EncoderConfig(
        conv_layers=((32, 10, 5), (32, 3, 2), (32, 3, 2), (32, 3, 2), (32, 3, 2), (32, 2, 2), (32, 2, 2)),
        dim=64, layers=2, heads=4, ffn_dim=128, pos_conv_kernel=16, pos_conv_groups=4,
    ),
}
# Deployment-friendly twins: a per-frame norm and ReLU in the front end (see extractor_mode, conv_activation).
_EDGE_FRONT_END = {"extractor_mode": "frame_layer_norm", "conv_activation": "relu"}
PRESETS["fithubert-edge"] = PRESETS["fithubert"].replace(**_EDGE_FRONT_END)
PRESETS["tiny-edge"] = PRESETS["tiny"].replace(**_EDGE_FRONT_END)
# The int8 twin: companded audio (see mu_law), for --int8-aware distillation; every block then stays int8.
PRESETS["fithubert-int8"] = PRESETS["fithubert"].replace(mu_law=255.0)
# Streaming-friendly twins: chunked attention and a causal positional conv, so that a stream of one chunk
# (left context as the model's reach needs, no right context) gives exactly the full-utterance output. Chunks
# are counted in output frames: 8 x 40 ms for fithubert's time reduction, 16 x 20 ms for tiny.
PRESETS["fithubert-stream"] = PRESETS["fithubert-edge"].replace(
    pos_conv_causal=True, attention_chunk_frames=8, attention_left_frames=8)
PRESETS["tiny-stream"] = PRESETS["tiny-edge"].replace(
    pos_conv_causal=True, attention_chunk_frames=16, attention_left_frames=16)
PRESET_NOTES: dict[str, str] = {
    "hubert-base": "HuBERT Base (Hsu et al. 2021): the FitHuBERT teacher, post-LN, 94.4M backbone",
    "hubert-large": "HuBERT Large: pre-LN ('stable layer norm'), 24 layers x 1024",
    "wav2vec2-base": "wav2vec 2.0 Base: same encoder shape as HuBERT Base",
    "distilhubert": "DistilHuBERT: HuBERT's CNN and 2 transformer layers 768/3072",
    "fithubert": "FitHuBERT (Lee et al. 2022): 12 thin layers of 480, FFN 480, conv1d time reduction",
    "tiny": "2 layers of 64: for tests and quick demos",
    "fithubert-edge": "fithubert with a per-frame LayerNorm and ReLU in the conv front end: int8- and stream-friendly",
    "tiny-edge": "tiny with fithubert-edge's front end: for tests",
    "fithubert-int8": "fithubert with mu-law companded audio: an 8-bit front end keeps quiet frames (--int8-aware)",
    "fithubert-stream": "fithubert-edge with attention in 320 ms chunks + 320 ms left, causal positional conv",
    "tiny-stream": "tiny-edge with attention in 320 ms chunks + 320 ms left, causal positional conv: for tests",
}


def preset(name: str) -> EncoderConfig:
    """The config of a named preset; raises :class:`UnknownPreset` with the known names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise UnknownPreset(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}") from None
