"""Frozen frame features for the probe, from the thing being judged.

Three sources: an eager PyTorch encoder, an exported ``.pte``/``.tflite``/``.onnx`` run in its own runtime
through :func:`fitedge.edge.runtime.load` (so an int8 artifact is judged exactly as deployed), and MFCC
(the floor every model must beat). Each returns ``(layers, frames, dim)`` float32 per utterance.

A static-length artifact sees audio the way an app would feed it: long audio is cut into consecutive
windows of the artifact's length, the last (and any short utterance) zero-padded; the frames that
cover padding are dropped and the windows' frames concatenated.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fitedge.distill.models.ctc_head import Layer, parse_head_layer
from fitedge.edge.backends import BACKENDS
from fitedge.errors import ConfigError

log = logging.getLogger(__name__)
RunFn = Callable[[np.ndarray], dict[str, np.ndarray]]


def parse_layer(value: str | int) -> Layer:
    """``"last"``, ``"weighted"`` or a non-negative hidden-state index (given as int or digit string)."""
    try:
        return parse_head_layer(value)
    except ValueError:
        raise ConfigError(f"--layer must be 'last', 'weighted' or a layer index, got {value!r}") from None


def select_layers(outputs: dict[str, np.ndarray], layer: Layer) -> np.ndarray:
    """Pick the probe's input from named model outputs (batch 1) as ``(layers, frames, dim)``.

    Besides ``last``, ``weighted`` and an index, ``layer`` may name any output (``logits`` of a CTC head).
    """
    hidden = sorted((int(k.rsplit("_", 1)[1]), k) for k in outputs if k.startswith("hidden_state_"))
    if layer == "weighted":
        if not hidden:
            raise ConfigError(f"--layer weighted needs every hidden state; this model only gives {sorted(outputs)}"
                              " (export with --outputs all)")
        return np.stack([outputs[k][0] for _, k in hidden]).astype(np.float32)
    if layer == "last":
        name = next((n for n in ("last_hidden_state", "final_proj") if n in outputs), hidden[-1][1] if hidden else None)
    elif isinstance(layer, int):
        name = f"hidden_state_{layer}"
    else:
        name = layer
    if name not in outputs:
        raise ConfigError(f"layer {layer} is not among this model's outputs {sorted(outputs)}")
    return outputs[name][0][None].astype(np.float32)


@dataclass(frozen=True)
class Framing:
    """The input lengths a model accepts: fixed (``input_samples``), bounded, or anything (all ``None``)."""

    input_samples: int | None = None
    min_samples: int | None = None
    max_samples: int | None = None

    @property
    def window(self) -> int | None:
        return self.input_samples or self.max_samples

    @property
    def shortest(self) -> int:
        return self.input_samples or self.min_samples or 1

    def describe(self) -> str:
        if self.input_samples:
            return (f"static input of {self.input_samples} samples: longer audio cut into windows of that length, "
                    "short audio zero-padded, frames over padding dropped")
        if self.min_samples or self.max_samples:
            return (f"dynamic input within [{self.min_samples}, {self.max_samples}] samples: longer audio cut into "
                    "windows, shorter audio zero-padded, frames over padding dropped")
        return "whole utterances (dynamic length)"


@dataclass
class FramingStats:
    """How many utterances needed padding or chunking: said in the report."""

    utterances: int = 0
    padded: int = 0
    chunked: int = 0


@dataclass
class ModelFeatures:
    """Features from a model callable ``run(wav (1, samples)) -> {name: (1, frames, dim)}`` behind a framing."""

    run: RunFn
    layer: Layer
    name: str
    framing: Framing = Framing()
    stats: FramingStats = field(default_factory=FramingStats)

    def __call__(self, wav: np.ndarray) -> np.ndarray:
        wav = np.asarray(wav, dtype=np.float32).reshape(-1)
        self.stats.utterances += 1
        pieces = _split(wav, self.framing.window)
        self.stats.chunked += len(pieces) > 1
        return np.concatenate([self._window(piece) for piece in pieces], axis=1)

    def _window(self, piece: np.ndarray) -> np.ndarray:
        """Run one window, zero-padded to the accepted length; keep the frames of the real audio only."""
        length = max(piece.size, self.framing.shortest)
        if self.framing.input_samples:
            length = self.framing.input_samples
        if length == piece.size:
            return select_layers(self.run(piece[None]), self.layer)
        self.stats.padded += 1
        padded = np.zeros((1, length), dtype=np.float32)
        padded[0, : piece.size] = piece
        features = select_layers(self.run(padded), self.layer)
        # Frames are evenly spaced over the window, so the real audio covers this share of them.
        keep = max(1, math.floor(features.shape[1] * piece.size / length))
        return features[:, :keep]


def _split(wav: np.ndarray, window: int | None) -> list[np.ndarray]:
    if window is None:
        return [wav]
    return [wav[i:i + window] for i in range(0, max(wav.size, 1), window)]


def eager_features(encoder, layer: Layer = "last", framing: Framing = Framing(), name: str = "eager") -> ModelFeatures:
    """Features of an eager :class:`~fitedge.distill.models.encoder.Encoder` (put in inference mode here)."""
    import torch

    model = encoder.for_inference()

    def run(wav: np.ndarray) -> dict[str, np.ndarray]:
        with torch.inference_mode():
            out = model(torch.from_numpy(wav))
        named = {f"hidden_state_{i}": h.numpy() for i, h in enumerate(out.hidden_states)}
        named["last_hidden_state"] = out.last_hidden_state.numpy()
        return named

    return ModelFeatures(run, layer, name, framing)


def artifact_features(path: str | Path, layer: Layer = "last", threads: int | None = None) -> ModelFeatures:
    """Features of an exported artifact run in its own runtime, framed as its input shape requires."""
    from fitedge.edge.runtime import load

    runner = load(str(path), threads=threads)
    framing = Framing(runner.input_samples, getattr(runner, "min_samples", None), getattr(runner, "max_samples", None))
    return ModelFeatures(runner.run, layer, Path(path).name, framing)


class MfccFeatures:
    """The PER floor: fitedge's MFCC (:mod:`fitedge.distill.data.mfcc`), per-utterance mean/variance normalised.

    Pairs of 10 ms frames are stacked into one 20 ms frame (78 values): the frame rate of a HuBERT-family
    encoder, so the floor and the models give the probe equally many frames per phoneme.
    """

    name = "mfcc"
    framing = Framing()

    def __init__(self) -> None:
        self.stats = FramingStats()

    def __call__(self, wav: np.ndarray) -> np.ndarray:
        from fitedge.distill.data.mfcc import MFCC_DIM, mfcc_frames

        deltas = mfcc_frames(np.asarray(wav, dtype=np.float32).reshape(-1))
        if deltas.size == 0:
            deltas = np.zeros((1, MFCC_DIM), dtype=np.float32)
        deltas = (deltas - deltas.mean(0)) / (deltas.std(0) + 1e-5)
        self.stats.utterances += 1
        pairs = deltas[: max(len(deltas) // 2, 1) * 2] if len(deltas) > 1 else np.repeat(deltas, 2, axis=0)
        return pairs.reshape(1, -1, 2 * deltas.shape[1]).astype(np.float32)


def feature_source(spec: str, layer: str | int = "last", threads: int | None = None):
    """``mfcc``, an artifact path, or anything ``fitedge.load`` reads -> a callable feature source."""
    if spec == "mfcc":
        return MfccFeatures()
    layer = parse_layer(layer)
    if BACKENDS.find_file(spec) is not None:
        return artifact_features(spec, layer, threads)
    from fitedge.distill.checkpoints.source import load_encoder

    return eager_features(load_encoder(spec), layer, name=spec)
