"""Per-block times of every exported artifact in its own runtime: the library behind ``fitedge bench run --per-block``.

For each artifact of the bundle TARGETs, its model's blocks (each conv layer, the feature projection, the
positional conv, time reduction, each transformer layer) are lowered alone with the artifact's runtime and recipe
(blocks an int8 artifact keeps float in fp32) and timed in turns with the whole artifact, in this process
(:mod:`fitedge.edge.export.per_block`). Beside each block's time goes its int8 error from the bundle's screening
where the bundle has one. Each block's empty twin, timed in the same turns, gives what the block pays for being
called alone (its boundary), so the blocks' work can be set against the whole. Works for all three runtimes, two
of which have no profiler in their pip wheels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fitedge.bench.host.matrix import MatrixSettings
from fitedge.bench.host.targets import EAGER, Artifact, Exporter, eager_outputs, resolve_targets
from fitedge.edge.backends import BACKENDS
from fitedge.edge.bundle import manifest as mf
from fitedge.edge.export.per_block import PerBlockTimes, per_block_times
from fitedge.errors import ConfigError
from fitedge.extras import absent, install_hint

CALIBRATION_WINDOWS = 4  # static int8 blocks calibrate on what they see on these windows of speech


@dataclass
class ArtifactBlocks:
    """One artifact's blocks timed alone beside the whole artifact (``times``); or why not (``note``)."""

    model: str
    artifact: str
    runtime: str
    precision: str
    samples: int
    threads: int
    rounds: int
    times: PerBlockTimes | None = None
    errors: dict[str, float] = field(default_factory=dict)  # block -> 1 - cosine with it alone in int8
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        doc = {k: v for k, v in asdict(self).items() if k != "times"}
        t = self.times
        doc.update(blocks=[asdict(b) for b in t.blocks] if t else [], whole_ms=t.whole_ms if t else None,
                   whole_boundary_ms=t.whole_boundary_ms if t else None, sum_ms=round(t.sum_ms, 4) if t else None,
                   work_ms=round(t.work_ms, 4) if t else None, ratio=round(t.ratio, 4) if t else None)
        return doc


def per_block_targets(targets: Sequence[str], settings: MatrixSettings,
                      export: Exporter | None) -> list[ArtifactBlocks]:
    """Time the blocks of every artifact of ``targets`` (bundle folders, or models exported by ``export``).

    Each runs at the first of ``settings.seconds`` (a static artifact at its own length) and of ``settings.threads``,
    ``settings.iters`` rounds after one warm-up.
    """
    artifacts = [a for a in resolve_targets(list(targets), export) if a.runtime != EAGER]
    if not artifacts or any(a.path is None or not (a.path.parent / mf.MANIFEST_FILE).is_file() for a in artifacts):
        raise ConfigError("--per-block takes bundle folders or model names (a bundle's manifest names the model)")
    cut: dict[tuple[Path, int], tuple[list[Any], list[np.ndarray]]] = {}  # one model cut per bundle and length
    results = []
    for artifact in artifacts:
        samples = artifact.input_samples or settings.samples(settings.seconds[0])
        result = ArtifactBlocks(artifact.model, artifact.label, artifact.runtime, artifact.precision, samples,
                                settings.threads[0], settings.iters)
        result.note = _why_not(artifact, samples)
        if result.note is None:
            key = (artifact.path.parent, samples)
            if key not in cut:
                cut[key] = _cut(mf.Manifest.read(artifact.path.parent), samples)
            _time(artifact, result, *cut[key])
        results.append(result)
    return results


def _why_not(artifact: Artifact, samples: int) -> str | None:
    """Why ``artifact``'s blocks cannot be timed here (a runtime or its lowering not installed, a length it refuses)."""
    backend = BACKENDS.for_runtime(artifact.runtime)
    missing = backend.runtime_missing()
    if missing is None and backend.extra and absent(backend.extra):
        missing = f"lowering blocks for {backend.name} needs {install_hint(backend.extra)}"
    problem = artifact.length_problem(samples)
    return missing or (f"not run: {samples} samples do not fit its {problem}" if problem else None)


def _cut(manifest: mf.Manifest, samples: int) -> tuple[list[Any], list[np.ndarray]]:
    """The bundle's model cut into its blocks, fed speech windows of ``samples``; and those windows."""
    from fitedge.quantize.auto.block_models import block_models
    from fitedge.quantize.auto.sensitivity import blocks
    from fitedge.quantize.calibration import load_calibration

    deployable = _model(manifest).deployable()
    windows = load_calibration(None, samples, CALIBRATION_WINDOWS + 1).calibration[:CALIBRATION_WINDOWS]
    return block_models(deployable, blocks(deployable), windows), windows


def _time(artifact: Artifact, result: ArtifactBlocks, models: list[Any], windows: list[np.ndarray]) -> None:
    """Time ``artifact``'s blocks (those its int8 keeps float in fp32) beside it, into ``result``."""
    manifest = mf.Manifest.read(artifact.path.parent)
    entry = manifest.artifact(artifact.path.name)
    kept = entry.keep_float if entry is not None else []
    floats = [m.name for m in models if any(m.name == k or m.name.startswith(k + ".") for k in kept)]
    backend = BACKENDS.for_runtime(artifact.runtime)
    whole = backend.open_quiet(artifact.path, result.threads, {})  # opened as the blocks are, beside them
    result.times = per_block_times(backend, models, artifact.precision, floats,
                                   _recipe_options(artifact), result.threads, result.rounds, (whole, windows[0][None]))
    screened = (manifest.extra.get("int8_policy") or {}).get("sensitivity") or []
    result.errors = {s["block"]: 1.0 - s["cosine"] for s in screened}


def _model(manifest: mf.Manifest) -> Any:
    """The bundle's model as the export loaded it (its encoder; a head is not one of the blocks)."""
    from fitedge.edge.export.model import load_export_model
    from fitedge.edge.export.options import ExportOptions

    source = manifest.model.source.removeprefix("preset:")
    if not manifest.model.source.startswith("preset:") and not Path(source).exists():
        raise ConfigError(f"the bundle's model {manifest.model.source} is not here to cut into blocks")
    seed = manifest.model.extra.get("seed") or 0  # a preset's random weights: the same seed, the same model
    return load_export_model(source, ExportOptions(outputs=eager_outputs(manifest), seed=seed))


def _recipe_options(artifact: Artifact) -> Any:
    """Export options that give the blocks the artifact's int8 recipe (its name says dynamic or static)."""
    from fitedge.edge.export.options import ExportOptions
    from fitedge.edge.lower.litert_rows import RECIPE as LITERT_PER_ROW

    mode = "dynamic" if "dynamic" in (artifact.recipe or "") else "static"
    if artifact.runtime == "executorch":
        return ExportOptions(executorch_int8=mode)
    if artifact.runtime == "litert":
        return ExportOptions(litert_int8="dynamic-linears" if artifact.recipe == LITERT_PER_ROW else mode)
    if artifact.runtime == "onnxruntime":
        return ExportOptions(onnx_int8=mode)
    return ExportOptions()


def format_blocks(result: ArtifactBlocks) -> str:
    """A plain-text table: each block's p50, its boundary's, its work and share of the work, its int8 error; then
    the sums against the whole."""
    head = (f"{result.artifact} ({result.runtime}, {result.precision}, {result.samples} samples, {result.threads} "
            f"threads, {result.rounds} rounds in turns)")
    t = result.times
    if t is None:
        return f"{head}\n  skipped: {result.note}"
    lines = [head, f"  {'block':<34} {'ms p50':>9} {'boundary':>9} {'work':>9} {'share':>7} {'int8 error':>11}"]
    for b in t.blocks:
        error = f"{result.errors[b.block]:.2e}" if b.block in result.errors else "-"
        float_mark = " (float)" if b.precision != result.precision else ""
        lines.append(f"  {b.block + float_mark:<34} {b.ms:>9.3f} {b.boundary_ms:>9.3f} {b.work_ms:>9.3f} "
                     f"{100 * b.work_ms / t.work_ms:>6.1f}% {error:>11}")
    lines.append(f"  sum of blocks {t.sum_ms:.3f} ms; the whole's boundary {t.whole_boundary_ms:.3f} ms")
    lines.append(f"  blocks' work (less their boundaries, plus the whole's) {t.work_ms:.3f} ms, whole artifact "
                 f"{t.whole_ms:.3f} ms: ratio {t.ratio:.3f}")
    return "\n".join(lines)
