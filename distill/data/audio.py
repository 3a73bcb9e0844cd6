"""Audio decoding for fitedge: any soundfile-readable file -> float32 mono at 16 kHz.

soundfile (libsndfile) decodes wav/flac/ogg, channels are averaged to mono and soxr resamples
(its default "HQ" quality, the same filter for every corpus so teacher and student hear the same thing).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from fitedge.audio import SAMPLE_RATE
from fitedge.errors import DataError
from fitedge.files import atomic_file

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


def resample(wav: np.ndarray, from_rate: int, to_rate: int = SAMPLE_RATE) -> np.ndarray:
    """``wav`` (mono float32) resampled from ``from_rate`` to ``to_rate`` with soxr."""
    if from_rate == to_rate:
        return wav
    return soxr.resample(wav, from_rate, to_rate).astype(np.float32, copy=False)


def to_mono(data: np.ndarray) -> np.ndarray:
    """Average the channels of a [frames, channels] array; a 1-D array is returned as is."""
    return data.mean(axis=1) if data.ndim == 2 else data


def read_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The audio at ``path`` as float32 mono at ``sample_rate``.

    Raises :class:`DataError` (one line, naming the file) when the file cannot be decoded or holds no samples.
    """
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=False)
    except (sf.SoundFileError, RuntimeError, OSError) as e:
        raise DataError(f"{path}: cannot decode audio ({_first_line(e)})") from None
    wav = to_mono(data)
    if wav.size == 0:
        raise DataError(f"{path}: audio file holds no samples")
    return np.ascontiguousarray(resample(wav, rate, sample_rate), dtype=np.float32)


def num_samples(path: str | Path, sample_rate: int = SAMPLE_RATE) -> int:
    """How many samples ``path`` has once resampled to ``sample_rate``, from its header alone (fast)."""
    try:
        info = sf.info(str(path))
    except (sf.SoundFileError, RuntimeError, OSError) as e:
        raise DataError(f"{path}: cannot read audio header ({_first_line(e)})") from None
    return round(info.frames * sample_rate / info.samplerate)


def write_audio(path: str | Path, wav: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Write ``wav`` as 16-bit PCM wav, atomically (temp file in the same folder, then rename)."""
    with atomic_file(path, suffix=".wav") as tmp:
        sf.write(tmp, np.clip(wav, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
