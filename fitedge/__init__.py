"""fitedge: distil HuBERT-family speech encoders into FitHuBERT students and take them to the phone.

``fitedge.load(source)`` is the entry point: a preset name, a fitedge checkpoint folder, or any
checkpoint ``fitedge import`` reads (transformers, fairseq, torchaudio, official FitHuBERT).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from pathlib import Path

    from fitedge.distill.models.encoder import Encoder


def load(source: str | Path, format: str | None = None, seed: int = 0) -> Encoder:
    """Load an encoder from a preset name or a checkpoint path of any supported format.

    A preset has random weights drawn from ``seed`` (0 by default), so ``load("fithubert")`` is the same model
    every time; a checkpoint ignores ``seed``.
    """
    from fitedge.distill.checkpoints.source import load_encoder

    return load_encoder(source, format=format, seed=seed)


__all__ = ["__version__", "load"]
