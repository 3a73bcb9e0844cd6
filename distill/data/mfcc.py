"""fitedge's one MFCC front end (Kaldi MFCC + deltas, fairseq's conventions) and HuBERT's iteration-1 targets.

The same features serve the teacher's k-means targets and the PER floor (``fitedge eval per mfcc``), so both
see the same MFCC. The conventions are fairseq's HuBERT recipe: the waveform as read (floats in [-1, 1], not
16-bit magnitudes), no energy term, no dither. Kaldi's own tools scale to 16-bit magnitudes; that only shifts
the zeroth cepstral coefficient by a constant, which k-means and per-utterance normalisation ignore.

fairseq's HuBERT recipe (``simple_kmeans/dump_mfcc_feature.py``) computes 13 Kaldi MFCCs without energy at
a 10 ms shift, appends first and second deltas (39 dims) and clusters them with MiniBatchKMeans (k = 100).
kaldi-native-fbank computes the same Kaldi features. The encoder's frame ``t`` spans samples
``[320 t, 320 t + 400)``, exactly the 25 ms window of MFCC frame ``2 t``, so taking every second MFCC frame
gives labels aligned to the 20 ms encoder frames (fairseq does the same when ``label_rate`` is 100).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import kaldi_native_fbank as knf
import numpy as np
from sklearn.cluster import MiniBatchKMeans

from fitedge.audio import SAMPLE_RATE

log = logging.getLogger(__name__)

MFCC_DIM = 39
_MFCC_SHIFT_PER_FRAME = 2  # 10 ms MFCC frames per 20 ms encoder frame


def mfcc_frames(wav: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """``(frames, 39)`` MFCC + delta + delta-delta at Kaldi's 10 ms rate (no frames: shape ``(0, 39)``)."""
    opts = knf.MfccOptions()
    opts.frame_opts.samp_freq = sample_rate
    opts.frame_opts.dither = 0.0  # deterministic labels
    opts.use_energy = False  # as fairseq's recipe
    mfcc = knf.OnlineMfcc(opts)
    mfcc.accept_waveform(sample_rate, np.ascontiguousarray(wav, dtype=np.float32).tolist())
    mfcc.input_finished()
    n = mfcc.num_frames_ready
    if n == 0:
        return np.zeros((0, MFCC_DIM), dtype=np.float32)
    feats = np.stack([np.asarray(mfcc.get_frame(i), dtype=np.float32) for i in range(n)])
    return np.asarray(knf.compute_deltas(knf.DeltaOptions(order=2, window=2), feats), dtype=np.float32)


def mfcc_features(wav: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """``(frames, 39)`` MFCC + deltas at a 20 ms rate, frame ``t`` centred like encoder frame ``t``."""
    return mfcc_frames(wav, sample_rate)[::_MFCC_SHIFT_PER_FRAME]


@dataclass
class UnitLabeler:
    """Nearest-centroid labels for MFCC frames: the frozen k-means codebook of HuBERT's first iteration."""

    centroids: np.ndarray  # (k, 39)

    @property
    def num_units(self) -> int:
        return int(self.centroids.shape[0])

    def label_features(self, feats: np.ndarray) -> np.ndarray:
        """``(frames,)`` int64 unit ids of ``(frames, 39)`` features."""
        d = (feats**2).sum(1, keepdims=True) - 2 * feats @ self.centroids.T + (self.centroids**2).sum(1)[None]
        return d.argmin(axis=1).astype(np.int64)

    def label_audio(self, wav: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
        return self.label_features(mfcc_features(wav, sample_rate))


def fit_units(waves: Iterable[np.ndarray], num_units: int = 100, max_frames: int = 200_000,
              seed: int = 0) -> UnitLabeler:
    """Cluster the MFCC frames of ``waves`` (up to ``max_frames`` of them) into ``num_units`` units."""
    chunks, total = [], 0
    for wav in waves:
        feats = mfcc_features(wav)
        chunks.append(feats)
        total += len(feats)
        if total >= max_frames:
            break
    frames = np.concatenate(chunks)[:max_frames]
    if len(frames) < num_units:
        raise ValueError(f"k-means needs at least {num_units} frames, got {len(frames)}")
    log.info("k-means: %d units on %d MFCC frames", num_units, len(frames))
    km = MiniBatchKMeans(n_clusters=num_units, batch_size=10_000, n_init=3, max_no_improvement=50,
                         random_state=seed).fit(frames)
    return UnitLabeler(km.cluster_centers_.astype(np.float32))
