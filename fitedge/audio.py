"""The audio every model of the family takes: mono at one sample rate, 16 kHz (HuBERT, wav2vec2, FitHuBERT)."""

from __future__ import annotations

SAMPLE_RATE = 16000
