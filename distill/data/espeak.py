"""espeak-ng, the one wrapper: find it, speak text to a waveform (with its IPA), list its voices, its version.

fitedge speaks with espeak-ng in three places: the synthetic corpus (``fitedge data synth``), the built-in
int8 calibration speech, and the phone labels of the corpus; all of them go through here, so a missing
binary or a failing voice gives the same one-line error everywhere.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from fitedge.errors import DataError

MISSING = "espeak-ng is not installed or does not run (Debian package espeak-ng)"


@dataclass(frozen=True)
class Speech:
    """What espeak-ng said: float32 mono audio at its own rate (22,050 Hz) and, if asked, the IPA it spoke."""

    wav: np.ndarray
    sample_rate: int
    ipa: str = ""


def binary() -> str:
    """The espeak-ng program, or :class:`DataError` saying how to install it."""
    found = shutil.which("espeak-ng")
    if found is None:
        raise DataError(MISSING)
    return found


def speak(text: str, voice: str, rate: int | None = None, pitch: int | None = None, ipa: bool = False) -> Speech:
    """``text`` spoken by ``voice`` at ``rate`` words per minute and ``pitch`` (0-99); IPA phones ``_``-separated."""
    command = [binary(), "-v", voice]
    command += ["-s", str(rate)] if rate is not None else []
    command += ["-p", str(pitch)] if pitch is not None else []
    command += ["--ipa", "--sep=_"] if ipa else []
    with tempfile.TemporaryDirectory(prefix="fitedge-espeak-") as tmp:
        raw = Path(tmp) / "espeak.wav"
        result = subprocess.run([*command, "-w", str(raw)], input=text, capture_output=True, text=True)
        if result.returncode != 0 or not raw.is_file():
            raise DataError(f"espeak-ng failed on {text[:60]!r} ({voice}): {result.stderr.strip()[:200]}")
        wav, sample_rate = sf.read(raw, dtype="float32")
    return Speech(wav, int(sample_rate), result.stdout if ipa else "")


def phonemize(text: str, voice: str = "en-us") -> str:
    """espeak-ng's IPA for ``text`` in ``voice`` without speaking it, phones separated by ``_``."""
    result = subprocess.run([binary(), "-q", "--ipa", "--sep=_", "-v", voice, text], capture_output=True, text=True)
    if result.returncode != 0:
        raise DataError(f"espeak-ng failed for voice {voice!r}: {result.stderr.strip()[:200]}")
    return result.stdout


def voices() -> tuple[set[str], set[str]]:
    """espeak-ng's language voices (MBROLA ones excluded: they need the mbrola program) and variant names."""
    languages: set[str] = set()
    variants: set[str] = set()
    for option, into in (("--voices", languages), ("--voices=variant", variants)):
        result = subprocess.run([binary(), option], capture_output=True, text=True)
        if result.returncode != 0:
            raise DataError(MISSING)
        for row in result.stdout.splitlines()[1:]:
            fields = row.split()
            if len(fields) >= 5 and not fields[4].startswith("mb/"):
                into.add(fields[4].split("/")[-1] if into is variants else fields[1])
    return languages, variants


def version() -> str:
    """``espeak-ng 1.51``: recorded wherever its speech becomes data (corpora, calibration sets)."""
    words = subprocess.run([binary(), "--version"], capture_output=True, text=True).stdout.split()
    return f"espeak-ng {words[3]}" if len(words) > 3 else "espeak-ng"
