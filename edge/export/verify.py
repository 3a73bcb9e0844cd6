"""Parity between an artifact and its reference: cosine, max abs diff, SNR; and the checks that enforce it.

Cosine is over the whole flattened output (one number per output tensor); SNR is
``10 log10(|ref|^2 / |ref - out|^2)`` in dB. Several outputs or several clips reduce to the worst value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from fitedge.errors import FitedgeError, ShapeMismatch, ToleranceExceeded


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


def check_fp32(artifact: str, result: Parity, min_cosine: float, max_abs_diff: float) -> None:
    """A float artifact must compute what eager PyTorch computes."""
    if not (result.cosine >= min_cosine and result.max_abs_diff <= max_abs_diff):
        raise ToleranceExceeded(f"{artifact}: {result.describe()} against eager PyTorch; needs cosine >= "
                                f"{min_cosine} and max abs diff <= {max_abs_diff}")


def check_int8(artifact: str, result: Parity, min_cosine: float, allow_degraded: bool) -> bool:
    """An int8 artifact must stay close to float; returns whether it passed (``allow_degraded`` only warns)."""
    passed = bool(result.cosine >= min_cosine)
    if not passed and not allow_degraded:
        raise ToleranceExceeded(f"{artifact}: {result.describe()} against float on held-out audio; below "
                                f"--min-cosine {min_cosine} (pass --allow-degraded to keep it, or --keep-float "
                                f"the sensitive modules that `fitedge quantize sensitivity` names)")
    return passed


@dataclass
class ArtifactCheck:
    """``fitedge verify``'s verdict on one artifact."""

    file: str
    precision: str
    ok: bool
    problem: str = ""
    parity: Parity | None = None


def verify_bundle(folder: str | Path, threads: int | None = None) -> list[ArtifactCheck]:
    """Re-run every check of a bundle: manifest, sha256 of every file, parity of every artifact on the golden input.

    Float artifacts must meet the fp32 thresholds against the golden eager outputs; int8 artifacts the int8
    cosine floor (one exported with ``--allow-degraded`` is reported, not failed, when below it).
    """
    from fitedge.edge import runtime
    from fitedge.edge.bundle.folder import read_golden
    from fitedge.edge.bundle.manifest import read_manifest, sha256_file

    folder = Path(folder)
    doc = read_manifest(folder)
    wav, golden = read_golden(folder, doc)
    fp32, int8 = doc["thresholds"]["fp32"], doc["thresholds"]["int8"]
    checks = []
    for entry in doc["artifacts"]:
        name, path = entry["file"], folder / entry["file"]
        if not path.is_file():
            checks.append(ArtifactCheck(name, entry["precision"], False, "file missing"))
            continue
        if path.stat().st_size != entry["bytes"] or sha256_file(path) != entry["sha256"]:
            checks.append(ArtifactCheck(name, entry["precision"], False, "sha256 differs from the manifest"))
            continue
        try:
            result = compare_outputs(golden, runtime.load(path, threads=threads).run(wav))
            if entry["precision"] == "fp32":
                check_fp32(name, result, fp32["min_cosine"], fp32["max_abs_diff"])
            else:
                degraded_allowed = entry.get("parity", {}).get("passed") is False
                check_int8(name, result, int8["min_cosine"], degraded_allowed)
        except FitedgeError as e:
            checks.append(ArtifactCheck(name, entry["precision"], False, str(e)))
            continue
        checks.append(ArtifactCheck(name, entry["precision"], True, "", result))
    return checks
