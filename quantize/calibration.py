"""Calibration audio for int8: a user's folder/TSV of speech, or a built-in set synthesised with espeak-ng.

The built-in set is speech (never noise): fixed English sentences spoken by several espeak-ng voices at
run time, deterministic for a given espeak-ng version, which the manifest records. Utterances are split
into a calibration part and a held-out part (every fifth utterance), so that int8 parity is measured on
audio the quantizer never saw. Both parts are cut into model-sized windows of back-to-back speech.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fitedge.audio import SAMPLE_RATE
from fitedge.distill.data import espeak
from fitedge.errors import DataError

log = logging.getLogger(__name__)

SENTENCES = (
    "A small model can listen well when it learns from a larger one.",
    "Please turn the heating down before you leave the kitchen tonight.",
    "The train to the northern coast departs at a quarter past seven.",
    "She counted the boxes twice and found that three were missing.",
    "Bright yellow leaves covered the path along the quiet river.",
    "Could you read the last number on the receipt out loud again?",
    "We measured the speed of every runtime on the same two cores.",
    "My brother fixed the old bicycle with a borrowed set of tools.",
    "Thunder rolled across the valley long before the rain arrived.",
    "Seven thousand people watched the final match in the stadium.",
)
VOICES = ("en-us", "en-us+f3", "en+m3", "en-gb+f2", "en-us+m7")
SPEEDS = (150, 175)
HELD_OUT_EVERY = 5
GAP_SECONDS = 0.15


@dataclass(frozen=True)
class CalibrationSet:
    """Model-sized windows for calibration and for held-out parity, and a description for the manifest."""

    calibration: list[np.ndarray]
    held_out: list[np.ndarray]
    source: str
    utterances: int
    seconds: float

    def describe(self) -> dict:
        return {"source": self.source, "utterances": self.utterances, "seconds": round(self.seconds, 2),
                "calibration_windows": len(self.calibration), "held_out_windows": len(self.held_out)}


def load_calibration(source: str | Path | None, window: int, max_windows: int = 16,
                     sample_rate: int = SAMPLE_RATE) -> CalibrationSet:
    """Windows of ``window`` samples from ``source`` (audio folder, TSV manifest, corpus) or the built-in set."""
    if max_windows < 1:
        raise DataError("need at least one calibration window")
    if source is None:
        utterances = builtin_speech(sample_rate)
        description = (f"built-in: {len(utterances)} English utterances synthesised at run time by {espeak.version()} "
                       f"({len(VOICES)} voices)")
    else:
        utterances, description = read_user_audio(source, sample_rate), f"--calib {source}"
    if len(utterances) < 2:
        raise DataError(f"{source}: needs at least 2 utterances (one to calibrate on, one held out)")
    held = [u for i, u in enumerate(utterances) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1] or utterances[-1:]
    calib = [u for i, u in enumerate(utterances) if i % HELD_OUT_EVERY != HELD_OUT_EVERY - 1] or utterances[:-1]
    gap = int(GAP_SECONDS * sample_rate)
    return CalibrationSet(
        calibration=windows(calib, window, max_windows, gap),
        held_out=windows(held, window, max(2, max_windows // 4), gap),
        source=description,
        utterances=len(utterances),
        seconds=sum(len(u) for u in utterances) / sample_rate,
    )


def windows(utterances: list[np.ndarray], window: int, limit: int, gap: int) -> list[np.ndarray]:
    """Cut the utterances, joined by short silences, into up to ``limit`` windows of ``window`` samples.

    Too little audio for one window wraps around, so every window is full of speech, never padding.
    """
    silence = np.zeros(gap, dtype=np.float32)
    stream = np.concatenate([np.concatenate([u, silence]) for u in utterances])
    count = max(1, min(limit, len(stream) // window))
    if len(stream) < count * window:
        stream = np.resize(stream, count * window)
    return [np.ascontiguousarray(stream[i * window:(i + 1) * window]) for i in range(count)]


def read_user_audio(source: str | Path, sample_rate: int) -> list[np.ndarray]:
    """Every readable file behind ``source``; unreadable ones are skipped with a warning, none at all is an error."""
    from fitedge.distill.data.audio import read_audio
    from fitedge.distill.data.datasets import list_audio

    items = list_audio(source)
    audio = []
    for item in items:
        try:
            audio.append(read_audio(item.path, sample_rate))
        except DataError as e:
            log.warning("skipping calibration file: %s", e)
    if not audio:
        raise DataError(f"{source}: no readable audio for calibration ({len(items)} files listed)")
    return audio


def builtin_speech(sample_rate: int = SAMPLE_RATE) -> list[np.ndarray]:
    """The built-in utterances: every sentence once, voices and speeds in turn (deterministic)."""
    out = []
    for i, sentence in enumerate(SENTENCES):
        for j in range(len(VOICES) if i < 2 else 1):  # the first sentences in every voice, the rest in one each
            k = i + j
            out.append(synthesize(sentence, VOICES[k % len(VOICES)], SPEEDS[k % len(SPEEDS)], sample_rate))
    return out


def synthesize(text: str, voice: str, speed: int, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """``text`` spoken by espeak-ng, float32 mono at ``sample_rate``."""
    from fitedge.distill.data.audio import resample

    speech = espeak.speak(text, voice, speed)
    return resample(speech.wav, speech.sample_rate, sample_rate)
