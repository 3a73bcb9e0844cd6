"""How close an output is to its reference: cosine, max abs diff, SNR, and the worst of several comparisons.

Cosine is over the whole flattened output (one number per output tensor); SNR is
``10 log10(|ref|^2 / |ref - out|^2)`` in dB. Several outputs or several clips reduce to the worst value.
Export checks, ``fitedge verify``, int8 sensitivity and the benchmark all measure with these. A task head's
logits are also compared by their decisions (:func:`same_decisions`): a cosine of 0.99 can still change the best
token of frames whose top two tokens are close, and those are what a transcript shows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from fitedge.errors import ShapeMismatch


@dataclass(frozen=True)
class Parity:
    """How close an output is to its reference."""

    cosine: float
    max_abs_diff: float
    snr_db: float

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 7) if np.isfinite(v) else v for k, v in asdict(self).items()}

    def describe(self) -> str:
        return f"cosine {self.cosine:.6f}, max abs diff {self.max_abs_diff:.3g}, SNR {self.snr_db:.1f} dB"


def parity(reference: np.ndarray, output: np.ndarray) -> Parity:
    """Compare one output array with its reference (same shape)."""
    ref = np.asarray(reference, dtype=np.float64).ravel()
    out = np.asarray(output, dtype=np.float64).ravel()
    if np.shape(reference) != np.shape(output):
        raise ShapeMismatch(f"output shape {np.shape(output)} differs from the reference {np.shape(reference)}")
    if not np.all(np.isfinite(out)):
        return Parity(float("nan"), float("inf"), float("-inf"))
    error = ref - out
    denom = np.linalg.norm(ref) * np.linalg.norm(out)
    cosine = float(ref @ out / denom) if denom > 0 else float(np.array_equal(ref, out))
    noise = float(error @ error)
    snr = float("inf") if noise == 0 else 10 * np.log10(max(float(ref @ ref), 1e-30) / noise)
    return Parity(cosine, float(np.max(np.abs(error))) if error.size else 0.0, snr)


def worst(parities: list[Parity]) -> Parity:
    """The worst of several comparisons on each measure (a NaN cosine counts as the worst)."""
    cosines = [p.cosine for p in parities]
    return Parity(
        float("nan") if any(np.isnan(cosines)) else min(cosines),
        max(p.max_abs_diff for p in parities),
        min(p.snr_db for p in parities),
    )


def compare_outputs(reference: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Parity:
    """Worst parity over every named output; the names must match."""
    if set(reference) != set(outputs):
        raise ShapeMismatch(f"outputs {sorted(outputs)} differ from the reference's {sorted(reference)}")
    return worst([parity(reference[name], outputs[name]) for name in reference])


def same_decisions(reference: np.ndarray, output: np.ndarray) -> float:
    """The share of frames whose best token (argmax over the last axis of logits) is the reference's."""
    if np.shape(reference) != np.shape(output):
        raise ShapeMismatch(f"output shape {np.shape(output)} differs from the reference {np.shape(reference)}")
    return float(np.mean(np.argmax(reference, axis=-1) == np.argmax(output, axis=-1)))
