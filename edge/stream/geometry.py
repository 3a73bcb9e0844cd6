"""Where a streamed window lies in the audio and which of its frames it emits: :class:`StreamGeometry`.

All in samples at 16 kHz, for the encoder's output frames (after the conv front end and any time reduction).
Hop ``H``: samples between output frames. Receptive field ``R``: samples one output frame depends on through
the conv front end and the time reduction (not the positional conv or attention, which see the whole window;
a model with chunked attention sees a bounded stretch, :func:`model_stream_frames`).
Full-utterance frame ``g`` covers ``[g*H, g*H + R)``. A window holds ``F = L + C + Q`` frames: ``L`` of left
context, the ``C`` it emits, ``Q`` of right context; it takes ``N = (F - 1) * H + R`` samples.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from fitedge.errors import ConfigError

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class StreamGeometry:
    """One stream setting: hop and receptive field of the model, chunk and context of the stream (in frames).

    Attributes:
        hop: ``H``, samples between output frames.
        receptive: ``R``, samples the first output frame depends on.
        chunk: ``C``, frames emitted per window (>= 1).
        left: ``L``, frames of left context per window.
        right: ``Q``, frames of right context (lookahead) per window.
    """

    hop: int
    receptive: int
    chunk: int
    left: int = 0
    right: int = 0

    def __post_init__(self) -> None:
        if self.hop < 1 or self.receptive < self.hop:
            raise ConfigError(f"stream geometry needs hop >= 1 and receptive >= hop, got {self.hop}, {self.receptive}")
        if self.chunk < 1:
            raise ConfigError(f"the chunk must hold at least one frame ({self.hop_ms:g} ms), got {self.chunk}")
        if self.left < 0 or self.right < 0:
            raise ConfigError(f"left and right context must be >= 0 frames, got {self.left} and {self.right}")

    @classmethod
    def from_ms(cls, hop: int, receptive: int, chunk_ms: float, left_ms: float = 0.0,
                right_ms: float = 0.0) -> StreamGeometry:
        """Chunk and context in milliseconds, each rounded to whole frames of ``hop``."""
        hop_ms = 1000.0 * hop / SAMPLE_RATE
        if min(chunk_ms, left_ms, right_ms) < 0:
            raise ConfigError(f"--chunk-ms/--left-ms/--right-ms must be >= 0, got {chunk_ms}/{left_ms}/{right_ms}")
        chunk = round(chunk_ms / hop_ms)
        if chunk < 1:
            raise ConfigError(f"--chunk-ms {chunk_ms:g} is shorter than one frame ({hop_ms:g} ms)")
        return cls(hop, receptive, chunk, round(left_ms / hop_ms), round(right_ms / hop_ms))

    @classmethod
    def of_model(cls, config: Any, chunk_ms: float, left_ms: float = 0.0, right_ms: float = 0.0) -> StreamGeometry:
        """The geometry of an :class:`~fitedge.distill.models.config.EncoderConfig` (or its dict) at these settings."""
        hop, receptive = model_hop_and_receptive(config)
        return cls.from_ms(hop, receptive, chunk_ms, left_ms, right_ms)

    @classmethod
    def from_manifest(cls, section: dict[str, int]) -> StreamGeometry:
        """The manifest's ``streaming`` section; its ``window_samples`` must agree with the other numbers."""
        geometry = cls(section["frame_hop_samples"], section["receptive_field_samples"], section["chunk_frames"],
                       section["left_frames"], section["right_frames"])
        if geometry.window_samples != section["window_samples"]:
            raise ConfigError(f"manifest streaming section: window_samples {section['window_samples']} does not "
                              f"follow from its frames (expected {geometry.window_samples})")
        return geometry

    # ---- derived -----------------------------------------------------------------------------------------
    @property
    def hop_ms(self) -> float:
        return 1000.0 * self.hop / SAMPLE_RATE

    @property
    def window_frames(self) -> int:
        """``F = L + C + Q``."""
        return self.left + self.chunk + self.right

    @property
    def window_samples(self) -> int:
        """``N = (F - 1) * H + R``."""
        return (self.window_frames - 1) * self.hop + self.receptive

    def window_start(self, k: int) -> int:
        """First sample of window ``k`` (negative before the audio starts: zeros there)."""
        return (k * self.chunk - self.left) * self.hop

    def window_ready(self, k: int) -> int:
        """Samples that must have arrived before window ``k`` can run."""
        return self.window_start(k) + self.window_samples

    def frames(self, samples: int) -> int:
        """``T``: frames the full-utterance model gives for ``samples`` samples."""
        return (samples - self.receptive) // self.hop + 1 if samples >= self.receptive else 0

    @property
    def algorithmic_latency_ms(self) -> float:
        """The most audio a frame waits for after its own last sample: ``(C + Q) * H + (R - H)`` samples."""
        return 1000.0 * ((self.chunk + self.right) * self.hop + self.receptive - self.hop) / SAMPLE_RATE

    def describe(self) -> str:
        """``chunk 640 ms, left 1280 ms, right 320 ms (C=10 L=20 Q=5, N=...)``."""
        ms = self.hop_ms
        return (f"chunk {self.chunk * ms:g} ms, left {self.left * ms:g} ms, right {self.right * ms:g} ms "
                f"(C={self.chunk} L={self.left} Q={self.right}, window {self.window_samples} samples)")

    def to_manifest(self) -> dict[str, int]:
        """The manifest's ``streaming`` section."""
        return {"chunk_frames": self.chunk, "left_frames": self.left, "right_frames": self.right,
                "frame_hop_samples": self.hop, "receptive_field_samples": self.receptive,
                "window_samples": self.window_samples}

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "window_samples": self.window_samples}


def model_hop_and_receptive(config: Any) -> tuple[int, int]:
    """``(H, R)`` of an encoder config (an ``EncoderConfig`` or its dict, as in a bundle's manifest).

    The conv front end gives stride ``S`` and field ``R0`` (each layer adds ``(kernel - 1) * jump``); a time
    reduction of factor ``f`` has kernel = stride = ``f`` over conv frames, adding ``(f - 1) * S``.
    """
    doc = config if isinstance(config, dict) else config.to_dict()
    stride, field_ = 1, 1
    for _, kernel, step in doc["conv_layers"]:
        field_ += (kernel - 1) * stride
        stride *= step
    factor = doc.get("time_reduction_factor", 2) if doc.get("time_reduction") else 1
    return stride * factor, field_ + (factor - 1) * stride


def model_stream_frames(config: Any) -> tuple[int, int, int] | None:
    """``(C, L, Q)`` in output frames with which a sliding window reproduces a chunked-attention model's
    full-utterance output exactly (eager, edges trimmed); ``None`` for a model that attends to everything.

    ``C`` is the attention chunk; the window must start on the chunk grid, so ``L`` is a whole number of chunks.
    ``L`` covers the model's reach back: each layer adds the chunk's left context from the start of the chunk
    of the earliest frame seen so far, and the positional conv adds its look-back. ``Q`` is the positional
    conv's look-ahead (0 when causal), the only thing that sees past a chunk's end.
    """
    doc = config if isinstance(config, dict) else config.to_dict()
    chunk = doc.get("attention_chunk_frames", 0)
    if not chunk:
        return None
    kernel, causal = doc["pos_conv_kernel"], doc.get("pos_conv_causal", False)
    back, ahead = (kernel - 1, 0) if causal else (kernel // 2, kernel - 1 - kernel // 2)
    factor = doc.get("time_reduction_factor", 2) if doc.get("time_reduction") else 1
    earliest = 0  # relative to the first frame of the emitted chunk
    for _ in range(doc["layers"]):
        earliest = (earliest // chunk) * chunk - doc.get("attention_left_frames", 0)
    earliest -= -(-back // factor)  # conv frames to output frames, rounded up
    return chunk, -(earliest // chunk) * chunk, -(-ahead // factor)


def streaming_section(geometry: StreamGeometry, config: Any) -> dict[str, Any]:
    """A bundle manifest's ``streaming`` section for a model of ``config`` exported for ``geometry``: its numbers,
    and whether a window that would start before the audio starts at its first sample (a chunked-attention model;
    an app's stream must know)."""
    return {**geometry.to_manifest(), "shift_start": is_chunked(config)}


def is_chunked(config: Any) -> bool:
    """Whether a model (config or its dict) has chunked attention: its streams may start at the audio's first
    sample (:class:`~fitedge.edge.stream.stream.Stream`'s ``shift_start``)."""
    return model_stream_frames(config) is not None
