"""Stream: every frame emitted exactly once and in order, aligned with the full utterance; eager parity."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import fitedge
from fitedge.distill.models.config import preset
from fitedge.distill.models.encoder import build_encoder
from fitedge.edge import runtime
from fitedge.edge.stream.geometry import StreamGeometry
from fitedge.edge.stream.stream import Stream, stream_all
from fitedge.errors import ConfigError, ShapeMismatch
from tests.helpers.speech import espeak
from tests.helpers.streaming import FakeModel, front_end


def frame_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return espeak("the quick brown fox jumps", "en-us")[: 2 * 16000]


@pytest.mark.parametrize("chunk, left, right", [(1, 0, 0), (4, 6, 2), (3, 0, 5), (7, 20, 1)])
@pytest.mark.parametrize("samples", [0, 399, 400, 401, 720, 4321, 16000])
def test_each_frame_is_emitted_once_in_order_and_the_count_is_t(chunk, left, right, samples):
    geometry = StreamGeometry(320, 400, chunk, left, right)
    ramp = np.arange(1, samples + 1, dtype=np.float32)  # the fake model's last feature names the frame
    emitted = stream_all(Stream(FakeModel(320, 400), geometry), ramp, feed=333).get("logits", np.zeros((0, 4)))
    frames = (emitted[:, 3].astype(np.int64) - 400) // 320
    assert frames.tolist() == list(range(geometry.frames(samples)))


def test_frames_become_final_as_soon_as_their_window_has_arrived():
    geometry = StreamGeometry(320, 400, chunk=4, left=6, right=2)
    stream = Stream(FakeModel(320, 400), geometry)
    stream.accept_waveform(np.ones(geometry.window_ready(0) - 1, np.float32))
    assert stream.read() == {} and stream.emitted == 0
    stream.accept_waveform(np.ones(1, np.float32))
    assert stream.read()["logits"].shape == (4, 4)
    assert stream.read()["logits"].shape == (0, 4)  # read returns each frame once


FILL_GEOMETRY = StreamGeometry(320, 400, chunk=4, left=6, right=2)


class StaticRecorder(FakeModel):
    """The fake model as a static artifact of one window that keeps every window it ran."""

    input_samples = FILL_GEOMETRY.window_samples

    def __init__(self) -> None:
        super().__init__(FILL_GEOMETRY.hop, FILL_GEOMETRY.receptive)
        self.inputs: list[np.ndarray] = []

    def run(self, wav: np.ndarray) -> dict[str, np.ndarray]:
        assert len(wav) == self.input_samples
        self.inputs.append(wav.copy())
        return super().run(wav)


N = FILL_GEOMETRY.window_samples


@pytest.mark.parametrize("samples", [0, 401, 5000, N, N + 1, N + 7 * 320 + 11, 16000])
def test_filled_windows_hold_only_heard_audio_and_emit_each_frame_once(samples):
    ramp = np.arange(1, samples + 1, dtype=np.float32)  # no zero in the audio: a zero in a window is padding
    model = StaticRecorder()
    emitted = stream_all(Stream(model, FILL_GEOMETRY, fill_edges=True), ramp, feed=333).get("logits", np.zeros((0, 4)))
    frames = (emitted[:, 3].astype(np.int64) - 400) // 320
    assert frames.tolist() == list(range(FILL_GEOMETRY.frames(samples)))
    for window in model.inputs:
        start = int(window[0]) - 1
        if samples >= N:  # a whole window of heard audio, on the frame grid
            assert start % 320 == 0 and np.array_equal(window, ramp[start: start + N])
        else:  # shorter than a window: from the first sample, the zeros after the last
            assert start == 0 and np.array_equal(window[:samples], ramp) and not window[samples:].any()


def test_a_filled_stream_waits_for_a_whole_window_before_its_first_frame():
    stream = Stream(FakeModel(320, 400), FILL_GEOMETRY, fill_edges=True)
    stream.accept_waveform(np.ones(N - 1, np.float32))
    assert stream.emitted == 0 and FILL_GEOMETRY.window_ready(0) < N - 1  # plain streaming would have emitted
    stream.accept_waveform(np.ones(1, np.float32))
    assert stream.emitted == 8  # windows 0 and 1 both start at the first sample: chunk 4 <= left 6


@pytest.mark.parametrize("windows", [1.0, 0.6])
def test_a_filled_eager_stream_of_at_most_one_window_is_the_full_utterance(speech, windows):
    """tiny attends to everything: the zeros before the audio change every frame, a filled window none."""
    stream = fitedge.stream("tiny", chunk_ms=320, left_ms=640, right_ms=160, fill_edges=True)
    wav = speech[: int(windows * stream.geometry.window_samples)]
    full = runtime.load("tiny").run(wav)["last_hidden_state"][0]
    np.testing.assert_allclose(stream_all(stream, wav, feed=1000)["last_hidden_state"], full, atol=1e-4, rtol=0)
    padded = stream_all(fitedge.stream("tiny", chunk_ms=320, left_ms=640, right_ms=160), wav, 1000)
    assert np.abs(padded["last_hidden_state"] - full).max() > 1e-2


def test_trim_and_fill_edges_do_not_combine():
    with pytest.raises(ConfigError, match="choose one"):
        Stream(FakeModel(320, 400), FILL_GEOMETRY, trim_edges=True, fill_edges=True)


def test_streamed_front_end_equals_the_full_utterance_exactly(speech):
    """Through the conv front end (local to R samples) every streamed frame is the full utterance's."""
    torch.manual_seed(0)
    encoder = build_encoder(preset("tiny").replace(extractor_mode="layer_norm", time_reduction="conv1d"))
    encoder.for_inference()

    class FrontEnd:
        input_samples = None

        def run(self, wav):
            return {"features": front_end(encoder, torch.from_numpy(wav)[None]).numpy()[None]}

    geometry = StreamGeometry(640, 720, chunk=3, left=2, right=1)
    streamed = stream_all(Stream(FrontEnd(), geometry), speech, feed=1111)["features"]
    np.testing.assert_allclose(streamed, FrontEnd().run(speech)["features"][0], atol=1e-5, rtol=0)


def test_eager_stream_equals_the_full_utterance_when_the_context_covers_it(speech):
    eager = runtime.load("tiny")
    full = eager.run(speech)["last_hidden_state"][0]
    stream = fitedge.stream("tiny", chunk_ms=320, left_ms=4000, right_ms=4000, trim_edges=True)
    streamed = stream_all(stream, speech, feed=2500)["last_hidden_state"]
    np.testing.assert_allclose(streamed, full, atol=1e-4, rtol=0)


def test_eager_stream_with_enough_context_keeps_the_frames(speech):
    full = runtime.load("tiny").run(speech)["last_hidden_state"][0]
    streamed = stream_all(fitedge.stream("tiny", chunk_ms=640, left_ms=1280, right_ms=320), speech, 1600)
    cosines = frame_cosines(streamed["last_hidden_state"], full)
    assert len(cosines) == len(full) and cosines.mean() >= 0.99


def test_a_static_runner_of_another_length_is_refused_in_one_line():
    class Static(FakeModel):
        input_samples = 16000

    with pytest.raises(ConfigError, match="takes 16000 samples") as error:
        Stream(Static(320, 400), StreamGeometry(320, 400, 4, 6, 2))
    assert "\n" not in str(error.value)
    geometry = StreamGeometry(320, 400, chunk=49)
    Static.input_samples = geometry.window_samples
    with pytest.raises(ConfigError, match="trim_edges"):
        Stream(Static(320, 400), geometry, trim_edges=True)


def test_bad_calls_are_one_line_errors():
    stream = Stream(FakeModel(320, 400), StreamGeometry(320, 400, 4))
    with pytest.raises(ShapeMismatch, match="1-D"):
        stream.accept_waveform(np.zeros((2, 10), np.float32))
    stream.input_finished()
    with pytest.raises(ConfigError, match="after input_finished"):
        stream.accept_waveform(np.zeros(10, np.float32))
