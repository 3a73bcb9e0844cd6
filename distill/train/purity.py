"""How phonetic a representation is: k-means units scored against phoneme labels (HuBERT's purity and PNMI).

HuBERT (Hsu et al. 2021, section V.C) clusters frame features and reports cluster purity, phone purity and
phone-normalised mutual information (PNMI) against forced alignments. The synthetic corpus has phoneme
*sequences* but no frame alignments, so this module uses a documented proxy: each utterance's phonemes are
spread uniformly over its speech frames (frames within 35 dB of the loudest; the rest are left out). The
proxy labels are noisy in the same way for every representation, so the scores rank representations
(MFCC vs. a random encoder vs. the pre-trained one) but are not comparable to HuBERT's published numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.cluster import MiniBatchKMeans
from sklearn.metrics import homogeneity_score
from sklearn.metrics.cluster import contingency_matrix

from fitedge.distill.data.audio import read_audio
from fitedge.distill.data.corpus import load_split, phoneme_inventory
from fitedge.distill.data.mfcc import mfcc_features
from fitedge.distill.models.encoder import Encoder

SPEECH_RANGE_DB = 35.0


def uniform_phone_frames(wav: np.ndarray, phone_ids: Sequence[int], num_frames: int, hop: int = 320,
                         window: int = 400) -> np.ndarray:
    """``(num_frames,)`` proxy frame labels: phonemes spread evenly over the speech frames, -1 elsewhere."""
    labels = np.full(num_frames, -1, dtype=np.int64)
    if num_frames == 0 or not phone_ids:
        return labels
    energy = np.array([np.mean(wav[t * hop: t * hop + window] ** 2) + 1e-10 for t in range(num_frames)])
    db = 10 * np.log10(energy)
    speech = np.flatnonzero(db > db.max() - SPEECH_RANGE_DB)
    first, last = int(speech[0]), int(speech[-1]) + 1
    position = (np.arange(first, last) - first) * len(phone_ids) // (last - first)
    labels[first:last] = np.asarray(phone_ids)[position]
    return labels


@dataclass(frozen=True)
class PurityReport:
    """Scores of one representation (all in [0, 1], higher is more phonetic)."""

    cluster_purity: float  # per unit, the share of its frames with its most common phoneme
    phone_purity: float  # per phoneme, the share of its frames in its most common unit
    pnmi: float  # I(phone; unit) / H(phone)
    frames: int

    def to_dict(self) -> dict:
        return {"cluster_purity": round(self.cluster_purity, 4), "phone_purity": round(self.phone_purity, 4),
                "pnmi": round(self.pnmi, 4), "frames": self.frames}


def purity_scores(units: np.ndarray, phones: np.ndarray) -> PurityReport:
    """Purity and PNMI of unit ids against phoneme ids (frames labelled -1 are ignored)."""
    keep = phones >= 0
    units, phones = units[keep], phones[keep]
    joint = contingency_matrix(units, phones)  # rows: units, columns: phonemes (only the ids that occur)
    p = joint / joint.sum()
    # PNMI = I(phone; unit) / H(phone) is what scikit-learn calls the homogeneity of the units w.r.t. phones.
    pnmi = float(homogeneity_score(phones, units))
    return PurityReport(float(p.max(1).sum()), float(p.max(0).sum()), pnmi, int(keep.sum()))


def unit_purity(fit_features: Sequence[np.ndarray], eval_features: Sequence[np.ndarray],
                eval_phones: Sequence[np.ndarray], num_units: int = 50, seed: int = 0) -> PurityReport:
    """Fit k-means on ``fit_features`` frames, label ``eval_features`` frames, score against ``eval_phones``."""
    km = MiniBatchKMeans(n_clusters=num_units, batch_size=10_000, n_init=3, random_state=seed)
    km.fit(np.concatenate(fit_features))
    lengths = [min(len(f), len(p)) for f, p in zip(eval_features, eval_phones)]
    units = np.concatenate([km.predict(f[:n]) for f, n in zip(eval_features, lengths)])
    phones = np.concatenate([p[:n] for p, n in zip(eval_phones, lengths)])
    return purity_scores(units, phones)


@torch.no_grad()
def encoder_features(encoder: Encoder, waves: Sequence[np.ndarray], layer: int) -> list[np.ndarray]:
    """``(frames, dim)`` outputs of transformer layer ``layer`` (0 = its input) for each waveform, in eval mode."""
    was_training = encoder.training
    encoder.eval()
    feats = [encoder(torch.from_numpy(w)[None]).hidden_states[layer][0].numpy() for w in waves]
    encoder.train(was_training)
    return feats


def phonetic_report(corpus_dir: str | Path, encoders: dict[str, Encoder], split: str = "valid",
                    max_utterances: int = 200, num_units: int = 50, seed: int = 0) -> dict[str, dict]:
    """Purity/PNMI of MFCC and of every layer of each encoder, on ``split`` of a labelled corpus.

    k-means is fitted on the first half of the utterances and scored on the second half.
    """
    utterances = load_split(corpus_dir, split)[:max_utterances]
    ids = {p: i for i, p in enumerate(phoneme_inventory(corpus_dir))}
    waves = [read_audio(u.path) for u in utterances]
    config = next(iter(encoders.values())).config if encoders else None
    frames = [config.num_frames(len(w)) if config else len(mfcc_features(w)) for w in waves]
    phones = [uniform_phone_frames(w, [ids[p] for p in u.phonemes if p in ids], n)
              for w, u, n in zip(waves, utterances, frames)]
    half = len(waves) // 2

    def score(feats: list[np.ndarray]) -> dict:
        return unit_purity(feats[:half], feats[half:], phones[half:], num_units, seed).to_dict()

    report = {"mfcc": score([mfcc_features(w) for w in waves])}
    for name, encoder in encoders.items():
        for layer in range(1, encoder.config.layers + 1):
            report[f"{name}/layer{layer}"] = score(encoder_features(encoder, waves, layer))
    return report
