"""The streaming contract's fake model and its cross-language test vectors (the Java core checks the same file).

:class:`FakeModel` stands in for an artifact: for a window of ``N`` samples it returns ``F`` frames of 4 float32
features, frame ``j`` = ``[mean, max, min, last]`` of ``x[j*H : j*H + R]``; the 4 features double as CTC logits
over :data:`TOKENS`. :func:`write_stream_vectors` runs the real :class:`fitedge.edge.stream.stream.Stream` over it
on espeak-ng speech fed in uneven pieces and writes what came out after each piece, and where each window lay
(:func:`window_fingerprint`); once as it is, once with ``shift_start`` (a chunked-attention model's stream) and
once with ``fill_edges``.

:func:`export_stream_bundle` is the real thing beside it: the tiny model's static ``.onnx`` sized for
:data:`STREAM_SETTING`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from fitedge.bench.eval.ctc import collapse_ctc
from fitedge.edge.stream.geometry import StreamGeometry
from fitedge.edge.stream.stream import Stream
from fitedge.files import write_json
from tests.helpers.speech import espeak

TOKENS = ["<blank>", "a", "b", "c"]
VECTOR_GEOMETRY = StreamGeometry(hop=320, receptive=400, chunk=4, left=6, right=2)
FEED_SIZES = (1000, 3337, 160, 5000, 1, 2999, 4096, 777)  # uneven on purpose; the rest of the audio follows
VECTORS_FILE = Path(__file__).parent / "stream_vectors.json"
STREAM_SETTING = {"chunk_ms": 320, "left_ms": 640, "right_ms": 160}


def export_stream_bundle(out: Path) -> Path:
    """The tiny model exported to ``out`` as one fp32 ``.onnx`` whose input is the window of :data:`STREAM_SETTING`."""
    import fitedge

    fitedge.export("tiny", out, targets=("onnx",), precisions=("fp32",), timing_runs=0, **STREAM_SETTING)
    return out


class FakeModel:
    """A runner-like stand-in: ``run(wav) -> {"logits": (1, F, 4)}``; dynamic (``input_samples`` is None)."""

    input_samples = None
    output_names = ["logits"]

    def __init__(self, hop: int, receptive: int) -> None:
        self.hop, self.receptive = hop, receptive
        self.windows: list[list[float]] = []  # the fingerprint of each input, in order

    def run(self, wav: np.ndarray) -> dict[str, np.ndarray]:
        x = np.asarray(wav, dtype=np.float32).reshape(-1)
        self.windows.append(window_fingerprint(x))
        count = (len(x) - self.receptive) // self.hop + 1 if len(x) >= self.receptive else 0
        frames = np.zeros((count, 4), dtype=np.float32)
        for j in range(count):
            field = x[j * self.hop: j * self.hop + self.receptive]
            frames[j] = [field.mean(dtype=np.float32), field.max(), field.min(), field[-1]]
        return {"logits": frames[None]}


def front_end(encoder: Any, wav: Any) -> Any:
    """An encoder's conv front end, feature projection and time reduction on ``wav`` ``(1, samples)``: the part
    whose receptive field is ``R`` (the positional conv and attention see further)."""
    import torch

    with torch.inference_mode():
        x = encoder.feature_projection(encoder.feature_extractor(wav)[0])
        reduction = encoder.encoder.time_reduction
        return (reduction(x) if reduction is not None else x)[0]


def greedy_ctc(logits: np.ndarray) -> list[str]:
    """Argmax per frame, repeats collapsed, blank (token 0) dropped."""
    return collapse_ctc(np.asarray(logits).argmax(-1).tolist(), TOKENS[1:])


def vector_speech() -> np.ndarray:
    """About 1.3 s of espeak-ng speech."""
    return espeak("seven red apples", "en-us")[: int(1.3 * 16000)]


def window_fingerprint(x: np.ndarray) -> list[float]:
    """Where a window lies in the audio, in two numbers: its samples' sum and their sum weighted by position / N."""
    x64 = np.asarray(x, dtype=np.float64)
    return [float(x64.sum()), float((np.arange(len(x64)) * x64).sum() / len(x64))]


def stream_vectors(wav: np.ndarray, geometry: StreamGeometry = VECTOR_GEOMETRY,
                   feeds: tuple[int, ...] = FEED_SIZES) -> dict[str, Any]:
    """Stream ``wav`` through the fake model in pieces of ``feeds`` (then the rest); the vectors document.

    ``shifted`` holds the same stream with ``shift_start`` and ``filled`` with ``fill_edges``: the fake model is
    local, so their frames are the same; their first windows (and the filled stream's last) are not."""
    sizes = list(feeds) + [len(wav) - sum(feeds)]
    assert sizes[-1] > 0, "the feed sizes must leave some audio for the last piece"
    plain = _streamed(wav, geometry, sizes)
    return {"frame_hop_samples": geometry.hop, "receptive_field_samples": geometry.receptive,
            "chunk_frames": geometry.chunk, "left_frames": geometry.left, "right_frames": geometry.right,
            "window_samples": geometry.window_samples, "wav": _shortest(wav), "feed_sizes": sizes, **plain,
            "tokens": TOKENS, "phonemes": greedy_ctc(np.array(plain["frames"], dtype=np.float32).reshape(-1, 4)),
            "shifted": _streamed(wav, geometry, sizes, shift_start=True),
            "filled": _streamed(wav, geometry, sizes, fill_edges=True)}


def _streamed(wav: np.ndarray, geometry: StreamGeometry, sizes: list[int], shift_start: bool = False,
              fill_edges: bool = False) -> dict[str, Any]:
    """The frames, frames emitted after each piece (and at the end), and the fingerprints of the windows run."""
    model = FakeModel(geometry.hop, geometry.receptive)
    stream = Stream(model, geometry, shift_start=shift_start, fill_edges=fill_edges)
    frames, after = [], []
    offset = 0
    for size in sizes:
        stream.accept_waveform(wav[offset: offset + size])
        offset += size
        frames.extend(stream.read().get("logits", np.zeros((0, 4), np.float32)))
        after.append(stream.emitted)
    stream.input_finished()
    frames.extend(stream.read().get("logits", np.zeros((0, 4), np.float32)))
    after.append(stream.emitted)
    return {"frames": [_shortest(f) for f in frames], "emitted_after_feed": after, "windows": model.windows}


def _shortest(values: np.ndarray) -> list[float]:
    """float32 values as the shortest decimals that read back to the same float32 (a smaller, exact file)."""
    return [float(str(v)) for v in np.asarray(values, dtype=np.float32)]


def write_stream_vectors(path: str | Path) -> Path:
    """Write the vectors file of :func:`stream_vectors` on :func:`vector_speech` (JSON) to ``path``."""
    return write_json(path, stream_vectors(vector_speech()), indent=None)


def read_stream_vectors(path: str | Path = VECTORS_FILE) -> dict[str, Any]:
    return json.loads(Path(path).read_text())
