"""Writes ``stream_vectors.json``, the streaming contract's cross-language test vectors for the Java core.

The stream is computed here from the contract alone (window k covers samples ``[(k*C - L)*H, ... + N)``, zeros
outside the audio, frames ``L .. L+C-1`` of each complete window, the rest at flush up to ``T``), over the
contract's fake model, on espeak-ng speech fed in uneven pieces. Run ``.venv/bin/python -m
tests.android_demo.make_stream_vectors [OUT]`` to regenerate the committed file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from tests.helpers.speech import espeak

H, R, C, L, Q = 320, 400, 4, 6, 2
F = L + C + Q
N = (F - 1) * H + R
FEEDS = (1000, 3337, 160, 1, 7777, 2048, 5, 999)
TOKENS = ["<blank>", "a", "b", "c"]
OUT = Path(__file__).with_name("stream_vectors.json")


def fake_model(x: np.ndarray) -> np.ndarray:
    """The contract's stand-in for an artifact: ``[F, 4]`` float32 of [mean, max, min, last] per frame."""
    spans = np.stack([x[j * H:j * H + R] for j in range(F)])
    return np.stack([spans.mean(1), spans.max(1), spans.min(1), spans[:, -1]], axis=1).astype(np.float32)


def window(wav: np.ndarray, k: int) -> np.ndarray:
    start = (k * C - L) * H
    padded = np.zeros(N, np.float32)
    lo, hi = max(start, 0), min(start + N, len(wav))
    padded[lo - start:hi - start] = wav[lo:hi]
    return padded


def stream(wav: np.ndarray, feeds: list[int]) -> tuple[list[np.ndarray], list[int]]:
    """Frames in emission order, and how many were emitted after each feed and after the flush."""
    frames: list[np.ndarray] = []
    emitted_after_feed = []
    received, k = 0, 0
    for size in feeds:
        received += size
        while (k * C - L) * H + N <= received:
            frames.extend(fake_model(window(wav, k))[L:L + C])
            k += 1
        emitted_after_feed.append(len(frames))
    total = (len(wav) - R) // H + 1 if len(wav) >= R else 0
    while len(frames) < total:
        frames.extend(fake_model(window(wav, k))[L:L + C][:total - len(frames)])
        k += 1
    emitted_after_feed.append(len(frames))
    return frames, emitted_after_feed


def greedy_ctc(frames: list[np.ndarray]) -> list[str]:
    best = [int(np.argmax(f)) for f in frames]
    return [TOKENS[b] for i, b in enumerate(best) if b != 0 and (i == 0 or b != best[i - 1])]


def float32_text(values) -> list[float]:
    """float32 values as the shortest decimals that read back to them, which keeps the committed file small."""
    return [float(np.format_float_positional(np.float32(v), unique=True, trim="0")) for v in values]


def vectors() -> dict:
    # Pauses between the words give blank frames, so the phonemes are more than one collapsed run.
    words = [espeak(w, "en-us")[:6400] for w in ("one", "two", "three")]
    gap = np.zeros(1600, np.float32)
    wav = np.concatenate([words[0], gap, words[1], gap, words[2]]).astype(np.float32)[:20800]
    feeds, at = [], 0
    while at < len(wav):
        feeds.append(min(FEEDS[len(feeds) % len(FEEDS)], len(wav) - at))
        at += feeds[-1]
    frames, emitted = stream(wav, feeds)
    return {"frame_hop_samples": H, "receptive_field_samples": R, "chunk_frames": C, "left_frames": L,
            "right_frames": Q, "window_samples": N, "wav": float32_text(wav), "feed_sizes": feeds,
            "frames": [float32_text(f) for f in frames], "emitted_after_feed": emitted, "tokens": TOKENS,
            "phonemes": greedy_ctc(frames)}


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    out.write_text(json.dumps(vectors()) + "\n")
    doc = json.loads(out.read_text())
    print(f"{out}: {len(doc['wav'])} samples, {len(doc['frames'])} frames, phonemes {doc['phonemes']}")
