"""Shared pieces of the evaluation tests: a tiny espeak-ng corpus built with the project's own synth API."""

from __future__ import annotations

from pathlib import Path

from fitedge.distill.synth import SynthConfig, synthesize_corpus

VOICES = ("en-us+m3", "en-us+f3", "en-gb+m2", "en-us+klatt", "en-029+f2")


def tiny_corpus(out: Path, minutes: float = 1.6) -> Path:
    """About 20 clean train utterances over 3 voices; one unseen voice each for valid and test."""
    config = SynthConfig(minutes=minutes, seed=11, voices=VOICES, valid_voices=1, test_voices=1, noise=False,
                         noise_share=0.0, reverb_share=0.0)
    synthesize_corpus(out, config)
    return out
