"""The parity checks of an export and of ``fitedge verify``: thresholds per precision, on :mod:`fitedge.parity`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fitedge.edge.bundle.manifest import ArtifactEntry, Manifest, sha256_file
from fitedge.errors import FitedgeError, ToleranceExceeded
from fitedge.parity import Parity, compare_outputs


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
    skipped: bool = False  # its runtime is not installed here: ``problem`` names the extra; not a failure


def verify_bundle(folder: str | Path, threads: int | None = None) -> list[ArtifactCheck]:
    """Re-run every check of a bundle: manifest, sha256 of every file, parity of every artifact on the golden input.

    Float artifacts must meet the fp32 thresholds against the golden eager outputs; int8 artifacts the int8
    cosine floor (one exported with ``--allow-degraded`` is reported, not failed, when below it). An artifact
    whose runtime is not installed here is skipped, its line naming the extra.
    """
    from fitedge.edge import runtime
    from fitedge.edge.backends import BACKENDS
    from fitedge.edge.bundle.folder import read_golden

    folder = Path(folder)
    manifest = Manifest.read(folder)
    wav, golden = read_golden(folder, manifest)
    checks = []
    for entry in manifest.artifacts:
        problem = file_problem(folder, entry)
        if problem:
            checks.append(ArtifactCheck(entry.file, entry.precision, False, problem))
            continue
        missing = BACKENDS.for_file(entry.file).runtime_missing()
        if missing:
            checks.append(ArtifactCheck(entry.file, entry.precision, False, missing, skipped=True))
            continue
        try:
            result = compare_outputs(golden, runtime.load(folder / entry.file, threads=threads).run(wav))
            check_artifact(manifest, entry, result)
        except FitedgeError as e:
            checks.append(ArtifactCheck(entry.file, entry.precision, False, str(e)))
            continue
        checks.append(ArtifactCheck(entry.file, entry.precision, True, "", result))
    return checks


def file_problem(folder: Path, entry: ArtifactEntry) -> str:
    """Why an artifact's file cannot be trusted (missing, or not the bytes the manifest names), else ``""``."""
    path = folder / entry.file
    if not path.is_file():
        return "file missing"
    if path.stat().st_size != entry.bytes or sha256_file(path) != entry.sha256:
        return "sha256 differs from the manifest"
    return ""


def check_artifact(manifest: Manifest, entry: ArtifactEntry, result: Parity) -> None:
    """Apply the bundle's thresholds for the artifact's precision to ``result``; raises :class:`ToleranceExceeded`.

    An int8 artifact exported with ``--allow-degraded`` below the floor is reported, not failed.
    """
    thresholds = manifest.thresholds
    if entry.precision == "fp32":
        check_fp32(entry.file, result, thresholds.fp32["min_cosine"], thresholds.fp32["max_abs_diff"])
    else:
        check_int8(entry.file, result, thresholds.int8["min_cosine"], entry.parity.passed is False)
