"""fitedge: distil HuBERT-family speech encoders into FitHuBERT students and take them to the phone.

``fitedge.load(source)`` is the entry point: a preset name, a fitedge checkpoint folder, or any
checkpoint ``fitedge import`` reads (transformers, fairseq, torchaudio, official FitHuBERT).
"""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from pathlib import Path

    from fitedge.distill.models.config import EncoderConfig
    from fitedge.distill.models.encoder import Encoder


def load(source: str | Path, format: str | None = None, seed: int = 0, *, heads: int | None = None,
         config: EncoderConfig | str | Path | None = None, guess: bool = False) -> Encoder:
    """Load an encoder from a preset name or a checkpoint path of any supported format.

    A preset has random weights drawn from ``seed`` (0 by default), so ``load("fithubert")`` is the same model
    every time; a checkpoint ignores ``seed``. ``heads``, ``config`` (an :class:`EncoderConfig` or its JSON
    file) and ``guess`` complete what a checkpoint file does not state, as ``fitedge import --heads/--config/
    --guess`` do: a torchaudio state dict does not say its number of attention heads.

    Example::

        enc = fitedge.load("wav2vec2_small.pth", heads=4)   # a torchaudio state dict
    """
    from fitedge.distill.checkpoints.infer_config import ConfigFacts, read_config_file
    from fitedge.distill.checkpoints.source import load_encoder

    if isinstance(config, str | PurePath):
        config = read_config_file(config)
    return load_encoder(source, format=format, seed=seed, facts=ConfigFacts(heads, config, guess))


def __getattr__(name: str) -> Any:
    # ``fitedge.Encoder`` (for ``Encoder.from_pretrained``) without importing torch on ``import fitedge``.
    if name == "Encoder":
        from fitedge.distill.models.encoder import Encoder

        return Encoder
    raise AttributeError(f"module 'fitedge' has no attribute {name!r}")


__all__ = ["__version__", "Encoder", "load"]
