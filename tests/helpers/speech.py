"""Real speech for the tests: espeak-ng utterances written as 16 kHz wav files."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np

from fitedge.audio import SAMPLE_RATE
from fitedge.distill.data.audio import read_audio, write_audio

PHRASES = (
    "the quick brown fox", "a small green boat", "she sells sea shells", "open the window please",
    "seven red apples", "where is the station", "bright light in the hall", "many hands make light work",
)


def espeak(text: str, voice: str, speed: int | None = None) -> np.ndarray:
    """``text`` spoken by espeak-ng (``speed`` in words per minute, espeak's default if None), as 16 kHz audio."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        rate = ["-s", str(speed)] if speed is not None else []
        subprocess.run(["espeak-ng", "-v", voice, *rate, "-w", str(raw), text], check=True, capture_output=True)
        return read_audio(raw)


def write_speech(folder: Path, count: int = 8, seconds: float = 1.0, voices: tuple[str, ...] = ("en-us", "en+m3"),
                 ) -> list[Path]:
    """``count`` espeak-ng utterances of :data:`PHRASES`, each cut or zero-padded to exactly ``seconds``."""
    folder.mkdir(parents=True, exist_ok=True)
    n = int(seconds * SAMPLE_RATE)
    paths = []
    for i in range(count):
        wav = espeak(PHRASES[i % len(PHRASES)], voices[i % len(voices)], speed=150 + 10 * (i % 3))[:n]
        path = folder / f"utt{i:02d}.wav"
        write_audio(path, np.pad(wav, (0, n - len(wav))))
        paths.append(path)
    return paths


def write_texts(folder: Path, texts: tuple[str, ...], voice: str = "en-us") -> list[Path]:
    """One espeak-ng utterance per text, at its natural length, as ``utt0.wav``, ``utt1.wav``, ..."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, text in enumerate(texts):
        path = folder / f"utt{i}.wav"
        write_audio(path, espeak(text, voice))
        paths.append(path)
    return paths
