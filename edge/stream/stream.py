"""Sliding-window streaming over any runner: :class:`Stream`, with sherpa-onnx-like verbs.

``accept_waveform(samples)`` as audio arrives, ``read()`` for the frames that became final since the last read,
``input_finished()`` at the end of the input. Window ``k`` covers global frames ``[k*C - L, k*C + C + Q)`` and
samples ``[(k*C - L) * H, ... + N)`` (zeros before the start and after the end of the audio); it runs as soon as
its ``N`` samples have arrived and emits the frames ``k*C .. k*C + C - 1``, each exactly once and in order. At the
end, the windows left run zero-padded and only the ``T`` frames the full utterance has are emitted.

A runner of any input length (eager, dynamic artifacts) may instead run each window cut to the audio it holds
(``trim_edges``): no silence is made up before the start or after the end, so a window that spans the whole
utterance gives exactly the full-utterance frames. The contract (and a static artifact) pads with zeros.

A model with chunked attention (``EncoderConfig.attention_chunk_frames``) never looks past the end of a chunk
but for the positional conv's look-ahead, which the right context covers; for it a window that would start
before the audio may start at its first sample instead (``shift_start``): the zeros then stand after the samples
that have arrived, where no emitted frame looks, and even a static window reproduces the full utterance.

A model that attends to everything reads made-up silence wherever it stands in its window. With ``fill_edges``
no window holds any, once the utterance is at least one window long: the first windows wait until a whole window
has arrived and start at the audio's first sample, and at the end the last windows end at its last sample. Every
frame then has at least its chunk's context, the first ones more; the price is the first frame's latency (a whole
window instead of chunk + right context). Static artifacts can do it, unlike ``trim_edges``; an utterance shorter
than a window is one window, zero-padded after its end for them and cut to it for a runner of any length.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from fitedge.edge.stream.geometry import StreamGeometry
from fitedge.errors import ConfigError, ShapeMismatch


class WindowRunner(Protocol):
    """What a stream runs: ``fitedge.edge.runtime.Runner`` or anything with the same two members."""

    input_samples: int | None

    def run(self, wav: np.ndarray) -> dict[str, np.ndarray]: ...


class Stream:
    """One utterance streamed through ``runner`` window by window, as ``geometry`` lays the windows out.

    Attributes:
        geometry: the stream's :class:`StreamGeometry`.
        trim_edges: cut windows to the audio instead of zero-padding them (runners of any length only).
        shift_start: run a window that would start before the audio from its first sample (chunked models).
        fill_edges: windows hold only audio that was heard: wait for a whole first window, end the last at the end.
        received: samples accepted so far.
        emitted: frames emitted so far (read or not).
        finished: whether :meth:`input_finished` was called.
    """

    def __init__(self, runner: WindowRunner, geometry: StreamGeometry, trim_edges: bool = False,
                 shift_start: bool = False, fill_edges: bool = False) -> None:
        fixed = getattr(runner, "input_samples", None)
        if trim_edges and fill_edges:
            raise ConfigError("trim_edges and fill_edges are two ways to keep silence out of the windows; choose one")
        if trim_edges and fixed is not None:
            raise ConfigError(f"trim_edges needs a runner of any input length; this one takes exactly {fixed} samples")
        if fixed is not None and fixed != geometry.window_samples:
            raise ConfigError(f"the artifact takes {fixed} samples, but {geometry.describe()} needs a window of "
                              f"{geometry.window_samples}; export it with these --chunk-ms/--left-ms/--right-ms")
        low, high = getattr(runner, "min_samples", None), getattr(runner, "max_samples", None)
        if (low is not None and geometry.window_samples < low) or (high is not None and geometry.window_samples > high):
            raise ConfigError(f"the artifact takes {low} to {high} samples, but {geometry.describe()} needs a window "
                              f"of {geometry.window_samples}")
        self.runner, self.geometry, self.trim_edges, self.shift_start = runner, geometry, trim_edges, shift_start
        self.fill_edges = fill_edges
        self._any_length = fixed is None
        self.received = self.emitted = 0
        self.finished = False
        self._window = 0  # the next window to run
        self._audio = np.zeros(0, dtype=np.float32)  # samples from global index self._origin on
        self._origin = 0
        self._pending: dict[str, list[np.ndarray]] = {}

    def accept_waveform(self, samples: np.ndarray) -> None:
        """Append 16 kHz float samples (1-D) and run every window whose samples have all arrived."""
        if self.finished:
            raise ConfigError("accept_waveform after input_finished: start a new stream for new audio")
        x = np.asarray(samples, dtype=np.float32)
        if x.ndim != 1:
            raise ShapeMismatch(f"accept_waveform takes 1-D samples, got shape {x.shape}")
        self._audio = np.concatenate([self._audio, x])
        self.received += len(x)
        while self._ready(self._window) <= self.received:
            self._run_window(self.geometry.frames(self.received))

    def input_finished(self) -> None:
        """No more audio: run the remaining windows zero-padded, emitting only the frames the utterance has."""
        if self.finished:
            return
        self.finished = True
        total = self.geometry.frames(self.received)
        while self._window * self.geometry.chunk < total:
            self._run_window(total)

    def read(self) -> dict[str, np.ndarray]:
        """The frames emitted since the last read, ``(frames, dim)`` per output name; ``{}`` before any window ran."""
        frames = {name: np.concatenate(parts) for name, parts in self._pending.items()}
        self._pending = {name: [part[:0]] for name, part in frames.items()}  # empty, of the right width
        return frames

    def _ready(self, k: int) -> int:
        """How many samples must have arrived before window ``k`` runs."""
        ready = self.geometry.window_ready(k)
        return max(ready, self.geometry.window_samples) if self.fill_edges else ready

    def _last_fitting_start(self) -> int:
        """The start of the last window that fits in the audio so far, on the frame grid (negative: none fits)."""
        return (self.received - self.geometry.window_samples) // self.geometry.hop * self.geometry.hop

    def _filled_start(self, start: int) -> int:
        """Where window ``start`` lies with ``fill_edges``: inside the audio, on the frame grid, where it fits."""
        if self.finished and start + self.geometry.window_samples > self.received:
            start = self._last_fitting_start()  # ends at the last frame's samples
        return max(start, 0)  # shorter than a window: from the first sample, zeros after the last

    def _run_window(self, limit: int) -> None:
        """Run the next window and keep its frames below global frame ``limit``."""
        g, k = self.geometry, self._window
        start, end = g.window_start(k), g.window_start(k) + g.window_samples
        if self.trim_edges:  # both cuts fall on the frame grid: the start is a multiple of H, or 0
            start, end = max(start, 0), min(end, self.received) if self.finished else end
        elif self.fill_edges:
            start = self._filled_start(start)
            end = start + g.window_samples
            if self.finished and self._any_length:  # an utterance shorter than a window: all of it
                end = min(end, self.received)
        elif self.shift_start and start < 0:  # same length, on the frame grid: the zeros move to the end
            start, end = 0, g.window_samples
        outputs = self.runner.run(self._samples(start, end - start))
        first, last = k * g.chunk, min(k * g.chunk + g.chunk, limit)
        skip = first - start // g.hop  # window-local index of global frame `first`
        for name, value in outputs.items():
            frames = value[0] if value.ndim == 3 else value
            if frames.shape[0] < skip + (last - first):
                raise ShapeMismatch(f"output {name}: a window of {end - start} samples gave {frames.shape[0]} "
                                    f"frames, expected {g.frames(end - start)}")
            self._pending.setdefault(name, []).append(frames[skip: skip + last - first])
        self.emitted += last - first
        self._window += 1
        keep = g.window_start(self._window)
        if self.fill_edges:  # a last window ends at the audio's end: keep all it could need (the end only grows)
            keep = min(keep, self._last_fitting_start())
        self._drop_before(keep)

    def _samples(self, start: int, count: int) -> np.ndarray:
        """Global samples ``[start, start + count)``: zeros where nothing was received."""
        out = np.zeros(count, dtype=np.float32)
        lo, hi = max(start, self._origin), min(start + count, self.received)
        if hi > lo:
            out[lo - start: hi - start] = self._audio[lo - self._origin: hi - self._origin]
        return out

    def _drop_before(self, index: int) -> None:
        """Forget the samples no later window needs."""
        if index > self._origin:
            cut = min(index, self.received) - self._origin
            self._audio = self._audio[cut:]
            self._origin += cut

    def __repr__(self) -> str:
        return f"<Stream {self.geometry.describe()}; {self.received} samples in, {self.emitted} frames out>"


def stream_all(stream: Stream, wav: np.ndarray, feed: int) -> dict[str, np.ndarray]:
    """Feed ``wav`` in pieces of ``feed`` samples, finish, and return every frame (a helper for offline checks)."""
    parts: dict[str, list[np.ndarray]] = {}
    for i in range(0, len(wav), feed):
        stream.accept_waveform(wav[i: i + feed])
        for name, frames in stream.read().items():
            parts.setdefault(name, []).append(frames)
    stream.input_finished()
    for name, frames in stream.read().items():
        parts.setdefault(name, []).append(frames)
    return {name: np.concatenate(p) for name, p in parts.items()}
