"""HuBERT/wav2vec 2.0 span masking: random span starts, each masking ``span`` consecutive frames."""

from __future__ import annotations

import torch
from torch import Tensor


def span_mask(lengths: Tensor, frames: int, start_prob: float, span: int,
              generator: torch.Generator | None = None) -> Tensor:
    """``(batch, frames)`` bool mask: true where the frame is replaced by the mask embedding.

    As fairseq's ``compute_mask_indices``: per utterance of ``n`` valid frames, ``int(start_prob * n + u)``
    span starts (``u`` uniform in [0, 1)) drawn without replacement from ``[0, n - span]``; spans may overlap,
    so with ``start_prob = 0.08`` and ``span = 10`` roughly half of the frames are masked.
    """
    mask = torch.zeros(len(lengths), frames, dtype=torch.bool)
    for row, n in enumerate(lengths.tolist()):
        n = min(int(n), frames)
        if n <= span:
            continue
        count = int(start_prob * n + torch.rand((), generator=generator).item())
        starts = torch.randperm(n - span + 1, generator=generator)[: max(count, 1)]
        offsets = (starts[:, None] + torch.arange(span)[None, :]).flatten()
        mask[row, offsets] = True
    return mask
