"""A CTC phoneme loss for the teacher's pre-training, on the labelled train split of a corpus.

wav2vec2 and HuBERT are fine-tuned with CTC on labelled speech; here the same loss is added to masked
prediction from the first step (weight ``ctc_weight``), so that a teacher pre-trained for minutes, not days,
already has phonetic top layers worth distilling. The linear head that reads the last layer is used only
for training: it rides along in ``heads.safetensors`` and the teacher stays an encoder.

Utterances are randomly cropped for masked prediction; a cropped utterance's phonemes no longer match its
audio, so only uncropped utterances (most of a corpus whose utterances are shorter than the crop) get a
CTC target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from fitedge.distill.data.datasets import AudioItem
from fitedge.errors import DataError


@dataclass(frozen=True)
class PhonemeTargets:
    """Phoneme label ids (1-based; 0 is the CTC blank) of each training item, in the items' order."""

    inventory: tuple[str, ...]
    labels: tuple[np.ndarray, ...]

    @property
    def classes(self) -> int:
        return len(self.inventory) + 1


def corpus_targets(corpus_dir: str | Path) -> tuple[list[AudioItem], PhonemeTargets]:
    """The train split's audio items and their phoneme targets (same order, both from ``train.tsv``)."""
    from fitedge.distill.data.corpus import load_split, phoneme_inventory

    utterances = load_split(corpus_dir, "train")
    inventory = tuple(phoneme_inventory(corpus_dir))
    index = {p: i + 1 for i, p in enumerate(inventory)}
    unknown = sorted({p for u in utterances for p in u.phonemes if p not in index})
    if unknown:
        raise DataError(f"{corpus_dir}: train phonemes not in phonemes.txt: {' '.join(unknown)}")
    items = [AudioItem(u.path, u.num_samples) for u in utterances]
    labels = tuple(np.array([index[p] for p in u.phonemes], dtype=np.int64) for u in utterances)
    return items, PhonemeTargets(inventory, labels)


def batch_targets(targets: PhonemeTargets, indices: Sequence[int], items: Sequence[AudioItem],
                  wavs: Sequence[np.ndarray]) -> list[Tensor | None]:
    """Each batch row's label ids, or None where the audio is not the whole item (a crop, or a substitute
    for an unreadable file: the dataset serves the next good item in its place)."""
    return [torch.from_numpy(targets.labels[i]) if len(w) == items[i].num_samples and len(targets.labels[i]) else None
            for i, w in zip(indices, wavs)]


def ctc_phoneme_loss(logits: Tensor, frame_lengths: Tensor, targets: Sequence[Tensor | None]) -> Tensor | None:
    """Mean CTC loss (per target phoneme, as torch's ``mean``) over the rows that have a target; None if none."""
    rows = [r for r, t in enumerate(targets) if t is not None]
    if not rows:
        return None
    log_probs = logits[rows].float().log_softmax(-1).transpose(0, 1)
    labels = [targets[r] for r in rows]
    return nn.functional.ctc_loss(log_probs, torch.cat(labels), frame_lengths[rows],
                                  torch.tensor([len(t) for t in labels]), blank=0, zero_infinity=True)
