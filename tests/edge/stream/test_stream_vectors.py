"""The cross-language vectors (tests/helpers/stream_vectors.json, read by the Java core's tests) agree with
themselves, with the contract's fake model on the whole utterance, and with a fresh run of the Python stream."""

from __future__ import annotations

import numpy as np

from fitedge.edge.stream.geometry import StreamGeometry
from tests.helpers.streaming import (
    FakeModel,
    greedy_ctc,
    read_stream_vectors,
    stream_vectors,
    window_fingerprint,
    write_stream_vectors,
)


def check_vectors(doc: dict) -> None:
    geometry = StreamGeometry(doc["frame_hop_samples"], doc["receptive_field_samples"], doc["chunk_frames"],
                              doc["left_frames"], doc["right_frames"])
    assert doc["window_samples"] == geometry.window_samples
    wav = np.array(doc["wav"], dtype=np.float32)
    frames = np.array(doc["frames"], dtype=np.float32)
    total = geometry.frames(len(wav))
    assert sum(doc["feed_sizes"]) == len(wav) and len(doc["emitted_after_feed"]) == len(doc["feed_sizes"]) + 1
    assert doc["emitted_after_feed"][-1] == len(frames) == total
    assert doc["emitted_after_feed"] == sorted(doc["emitted_after_feed"])
    received = np.cumsum(doc["feed_sizes"])
    for arrived, emitted in zip(received, doc["emitted_after_feed"]):
        windows = sum(1 for k in range(total) if geometry.window_ready(k) <= arrived)  # windows that could run
        assert emitted == min(windows * geometry.chunk, total)
    # The fake model is local to R samples, so streamed frames are exactly the whole utterance's.
    full = FakeModel(geometry.hop, geometry.receptive).run(wav)["logits"][0]
    np.testing.assert_allclose(frames, full, atol=1e-5, rtol=0)
    assert doc["phonemes"] == greedy_ctc(frames) and doc["tokens"] == ["<blank>", "a", "b", "c"]
    # A window per chunk; the fingerprints say which samples each saw (padded with zeros: the first has L*H).
    windows = -(-total // geometry.chunk)
    assert len(doc["windows"]) == windows
    first = np.concatenate([np.zeros(geometry.left * geometry.hop, np.float32), wav])[:geometry.window_samples]
    np.testing.assert_allclose(doc["windows"][0], window_fingerprint(first), rtol=1e-9, atol=1e-12)
    # Shifted to the audio's start, the windows that would start before it differ and the rest are the same;
    # this local model's frames do not change.
    shifted = doc["shifted"]
    early = sum(1 for k in range(windows) if geometry.window_start(k) < 0)
    assert 0 < early < windows and len(shifted["windows"]) == windows
    assert all(a != b for a, b in zip(shifted["windows"][:early], doc["windows"][:early]))
    np.testing.assert_allclose(shifted["windows"][early:], doc["windows"][early:], rtol=1e-9, atol=1e-12)
    assert shifted["emitted_after_feed"] == doc["emitted_after_feed"]
    np.testing.assert_allclose(np.array(shifted["frames"], np.float32), full, atol=1e-5, rtol=0)
    # Filled: nothing before a whole window has arrived, and every window is a window of the audio itself.
    filled = doc["filled"]
    np.testing.assert_allclose(np.array(filled["frames"], np.float32), full, atol=1e-5, rtol=0)
    assert [e for e, got in zip(filled["emitted_after_feed"], received) if got < geometry.window_samples] == \
        [0] * int((received < geometry.window_samples).sum()) and filled["emitted_after_feed"][-1] == total
    starts = range(0, len(wav) - geometry.window_samples + 1, geometry.hop)
    heard = [window_fingerprint(wav[s: s + geometry.window_samples]) for s in starts]
    for fingerprint in filled["windows"]:
        assert min(np.abs(np.subtract(heard, fingerprint)).sum(1)) < 1e-6


def test_the_committed_vectors_are_self_consistent():
    doc = read_stream_vectors()
    assert (doc["chunk_frames"], doc["left_frames"], doc["right_frames"]) == (4, 6, 2)
    assert 1.0 <= len(doc["wav"]) / 16000 <= 1.5 and len(set(doc["feed_sizes"])) > 3
    check_vectors(doc)


def test_the_python_stream_reproduces_the_committed_frames():
    doc = read_stream_vectors()
    again = stream_vectors(np.array(doc["wav"], dtype=np.float32), feeds=tuple(doc["feed_sizes"][:-1]))
    for now, then in ((again, doc), (again["shifted"], doc["shifted"]), (again["filled"], doc["filled"])):
        assert now["emitted_after_feed"] == then["emitted_after_feed"]
        np.testing.assert_allclose(now["frames"], then["frames"], atol=1e-5, rtol=0)
        np.testing.assert_allclose(now["windows"], then["windows"], rtol=1e-9, atol=1e-12)


def test_write_stream_vectors_writes_a_consistent_file(tmp_path):
    check_vectors(read_stream_vectors(write_stream_vectors(tmp_path / "vectors.json")))
