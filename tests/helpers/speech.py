"""Shared pieces of the distillation tests: real espeak-ng speech and tiny teacher/student configs."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np

from fitedge.distill.data.audio import read_audio, write_audio
from fitedge.distill.models.config import EncoderConfig, preset

PHRASES = (
    "the quick brown fox", "a small green boat", "she sells sea shells", "open the window please",
    "seven red apples", "where is the station", "bright light in the hall", "many hands make light work",
)
NO_DROPOUT = {"dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0, "feature_dropout": 0.0}


def write_speech(folder: Path, count: int = 8, seconds: float = 1.0, voices: tuple[str, ...] = ("en-us", "en+m3"),
                 ) -> list[Path]:
    """``count`` espeak-ng utterances, each cut or zero-padded to exactly ``seconds`` at 16 kHz."""
    folder.mkdir(parents=True, exist_ok=True)
    n = int(seconds * 16000)
    paths = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            raw = Path(tmp) / f"{i}.wav"
            subprocess.run(["espeak-ng", "-v", voices[i % len(voices)], "-s", str(150 + 10 * (i % 3)), "-w", str(raw),
                            PHRASES[i % len(PHRASES)]], check=True, capture_output=True)
            wav = read_audio(raw)[:n]
            path = folder / f"utt{i:02d}.wav"
            write_audio(path, np.pad(wav, (0, n - len(wav))))
            paths.append(path)
    return paths


def tiny_teacher(**changes) -> EncoderConfig:
    return preset("tiny").replace(**changes)


def tiny_student(**changes) -> EncoderConfig:
    """FitHuBERT-shaped in miniature: the teacher's depth, half its width, FFN = width, conv1d time reduction."""
    return preset("tiny").replace(dim=32, heads=4, ffn_dim=32, time_reduction="conv1d", **changes)
