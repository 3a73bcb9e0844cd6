"""Distillation losses: FitHuBERT's hint loss and DistilHuBERT's L1 + cosine loss.

Both compare head predictions with teacher layer outputs at the teacher's 20 ms rate. The teacher target is
cropped to the student's length (``f * floor(T / f)`` frames after time reduction and upsampling).

Padded frames: the official FitHuBERT code averages over every frame of the padded batch. fitedge masks them
out by default (``mask_padding=True``) because a padded frame's teacher output is the teacher's answer to
zeros, not to speech: regressing onto it teaches nothing about speech, and it makes the loss depend on how
utterances are grouped into batches (the official buckets of 3 near-equal lengths pad little; a
sample-budget bucket sampler can pad more). ``mask_padding=False`` reproduces the official objective.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor, nn

INTERMEDIATE_WEIGHT = 0.1  # FitHuBERT's weight of every hint but the last
COSINE_WEIGHT = 1.0  # DistilHuBERT's lambda


class LossOutput(NamedTuple):
    """The loss to minimise and each head's own term (unweighted), in layer-map order."""

    total: Tensor
    per_layer: list[Tensor]


def frame_mask(lengths: Tensor | None, frames: int) -> Tensor | None:
    """``(batch, frames)`` true on valid frames, or ``None`` when nothing is padded or lengths are unknown."""
    if lengths is None:
        return None
    return torch.arange(frames, device=lengths.device)[None, :] < lengths[:, None]


def crop_pair(prediction: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """Both cropped to the shorter frame count (the student's, for matching feature extractors)."""
    frames = min(prediction.shape[1], target.shape[1])
    return prediction[:, :frames].float(), target[:, :frames].float()


def masked_mean(values: Tensor, mask: Tensor | None) -> Tensor:
    """Mean of ``(batch, frames, ...)`` ``values`` over valid frames (all of them when ``mask`` is ``None``)."""
    if mask is None:
        return values.mean()
    mask = mask[:, : values.shape[1]]
    per_frame = values.reshape(values.shape[0], values.shape[1], -1)
    weight = mask[..., None].to(per_frame.dtype).expand_as(per_frame)
    return (per_frame * weight).sum() / weight.sum().clamp(min=1)


def hint_loss(predictions: Sequence[Tensor], targets: Sequence[Tensor], mask: Tensor | None,
              intermediate_weight: float = INTERMEDIATE_WEIGHT) -> LossOutput:
    """FitHuBERT: ``MSE(last) + intermediate_weight * sum(MSE(others))``, element-wise means."""
    terms = []
    for prediction, target in zip(predictions, targets):
        p, t = crop_pair(prediction, target)
        terms.append(masked_mean((p - t) ** 2, mask))
    total = terms[-1] + intermediate_weight * sum(terms[:-1], torch.zeros((), device=terms[-1].device))
    return LossOutput(total, terms)


def distilhubert_loss(predictions: Sequence[Tensor], targets: Sequence[Tensor], mask: Tensor | None,
                      cosine_weight: float = COSINE_WEIGHT) -> LossOutput:
    """DistilHuBERT: per head ``L1 - cosine_weight * log sigmoid(cos)``, summed over heads."""
    terms = []
    for prediction, target in zip(predictions, targets):
        p, t = crop_pair(prediction, target)
        l1 = masked_mean((p - t).abs(), mask)
        cos = nn.functional.cosine_similarity(p, t, dim=-1)
        terms.append(l1 - cosine_weight * masked_mean(nn.functional.logsigmoid(cos), mask))
    return LossOutput(sum(terms[1:], terms[0]), terms)


OBJECTIVE_LOSSES = {"fithubert": hint_loss, "distilhubert": distilhubert_loss}
