"""One artifact of a bundle: which file, runtime and precision, and how its backend builds it (quantize, lower)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fitedge.edge.backends import BACKENDS, Backend, BuildRequest
from fitedge.edge.bundle import manifest as mf
from fitedge.edge.export.metadata import artifact_metadata
from fitedge.edge.export.model import ExportModel
from fitedge.edge.export.options import ExportOptions
from fitedge.quantize.keep_float import display_name, float_modules

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArtifactJob:
    """One (target, precision) pair of the export."""

    name: str
    target: str
    precision: str
    dynamic: tuple[int, int] | None

    @property
    def file(self) -> str:
        return f"{self.name}_{self.precision}.{self.target}"

    @property
    def backend(self) -> Backend:
        return BACKENDS.for_target(self.target)

    @property
    def runtime(self) -> str:
        return self.backend.name

    def io_bounds(self, options: ExportOptions, grid: tuple[int, int]) -> dict[str, Any]:
        """What the runner enforces: a fixed length, or the dynamic bounds and length grid."""
        if self.dynamic is None:
            return {"input_samples": options.input_samples, "min_samples": None, "max_samples": None}
        return {"input_samples": None, "min_samples": self.dynamic[0], "max_samples": self.dynamic[1],
                "length_grid": grid}


def plan_jobs(model: ExportModel, options: ExportOptions) -> list[ArtifactJob]:
    """Every requested artifact, each dynamic where its backend takes a bounded dynamic length at that precision."""
    def dynamic(target: str, precision: str) -> tuple[int, int] | None:
        return options.dynamic if BACKENDS.for_target(target).dynamic_length(precision) else None

    return [ArtifactJob(model.name, target, precision, dynamic(target, precision))
            for target in options.targets for precision in options.precisions]


def build_artifact(job: ArtifactJob, model: ExportModel, calibration: Sequence[np.ndarray], folder: Path,
                   options: ExportOptions, held_out: Sequence[np.ndarray] = ()) -> dict[str, Any]:
    """Write ``job.file`` into ``folder``; returns its manifest entry (parity and latency are added later).

    ``held_out``: windows on which ``--calibration auto`` compares calibration methods (none: no comparison).
    """
    deployable = model.deployable()
    kept = float_modules(deployable, options.keep_float) if job.precision == "int8" else []
    path, backend = folder / job.file, job.backend
    built = backend.build(BuildRequest(deployable, job.precision, path, options.input_samples, job.dynamic,
                                       model.length_grid, model.spec.names, calibration, kept, options, held_out))
    # Last write to the file (ONNX int8 included, after quantization), so the sha256 below is the final file's.
    backend.write_metadata(path, artifact_metadata(model, job.precision, built.recipe))
    return {
        "file": job.file,
        "runtime": backend.name,
        "runtime_version": backend.version(),
        "precision": job.precision,
        "recipe": built.recipe,
        "keep_float": [display_name(n) for n in kept],
        "static": job.dynamic is None,
        "bytes": path.stat().st_size,
        "sha256": mf.sha256_file(path),
        **built.entry,
    }
