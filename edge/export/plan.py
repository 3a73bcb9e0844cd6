"""One artifact of a bundle: which file, runtime and precision, and how it is built (quantize, then lower).

ONNX int8 is quantized from the ONNX float file (onnxruntime works on ONNX graphs), so a float ONNX model is
built in the temporary folder even when only int8 was asked for; it is then removed.
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fitedge.edge.bundle import manifest as mf
from fitedge.edge.export.metadata import artifact_metadata, write_metadata
from fitedge.edge.export.model import ExportModel
from fitedge.edge.export.options import ExportOptions
from fitedge.edge.lower.delegable import norm_modules, xnnpack_friendly
from fitedge.edge.runtime import RUNTIME_PACKAGES, RUNTIMES
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
    def runtime(self) -> str:
        return RUNTIMES[f".{self.target}"]

    def io_bounds(self, options: ExportOptions, grid: tuple[int, int]) -> dict[str, Any]:
        """What the runner enforces: a fixed length, or the dynamic bounds and length grid."""
        if self.dynamic is None:
            return {"input_samples": options.input_samples, "min_samples": None, "max_samples": None}
        return {"input_samples": None, "min_samples": self.dynamic[0], "max_samples": self.dynamic[1],
                "length_grid": grid}


def plan_jobs(model: ExportModel, options: ExportOptions) -> list[ArtifactJob]:
    """Every requested artifact, each dynamic where its runtime supports a bounded dynamic length.

    TFLite wants static shapes. The int8 ``.pte`` is static too: with a dynamic length XNNPACK leaves the
    quantized convolutions to portable kernels, and executorch 1.4.1 then returns upper-bound output shapes.
    """
    def dynamic(target: str, precision: str) -> tuple[int, int] | None:
        return None if target == "tflite" or (target, precision) == ("pte", "int8") else options.dynamic

    return [ArtifactJob(model.name, target, precision, dynamic(target, precision))
            for target in options.targets for precision in options.precisions]


def build_artifact(job: ArtifactJob, model: ExportModel, calibration: Sequence[np.ndarray], folder: Path,
                   options: ExportOptions) -> dict[str, Any]:
    """Write ``job.file`` into ``folder``; returns its manifest entry (parity and latency are added later)."""
    deployable = model.deployable()
    kept = float_modules(deployable, options.keep_float) if job.precision == "int8" else []
    samples, path = options.input_samples, folder / job.file
    extra: dict[str, Any] = {}
    if job.target == "pte":
        etrecord = path.with_suffix(".etrecord") if options.etrecord else None
        recipe, extra["delegation"] = _build_pte(deployable, job, calibration, kept, samples, path, model.length_grid,
                                                 etrecord)
        if etrecord is not None:
            extra["etrecord"] = {"file": etrecord.name, "bytes": etrecord.stat().st_size,
                                 "sha256": mf.sha256_file(etrecord)}
    elif job.target == "tflite":
        recipe, extra = _build_tflite(deployable, job, calibration, kept, samples, path, options)
    else:
        recipe = _build_onnx(deployable, job, model, calibration, kept, samples, path, options)
    # Last write to the file (ONNX int8 included, after quantization), so the sha256 below is the final file's.
    write_metadata(path, artifact_metadata(model, job.precision, recipe))
    return {
        "file": job.file,
        "runtime": job.runtime,
        "runtime_version": importlib.metadata.version(RUNTIME_PACKAGES[job.runtime]),
        "precision": job.precision,
        "recipe": recipe,
        "keep_float": [display_name(n) for n in kept],
        "static": job.dynamic is None,
        "bytes": path.stat().st_size,
        "sha256": mf.sha256_file(path),
        **extra,
    }


def _build_pte(deployable: Any, job: ArtifactJob, calibration: Sequence[np.ndarray], kept: list[str],
               samples: int, path: Path, grid: tuple[int, int], etrecord: Path | None) -> tuple[str, dict[str, Any]]:
    from fitedge.edge.lower.executorch import lower_to_pte
    from fitedge.quantize.pt2e import quantize_for_executorch

    friendly = xnnpack_friendly(deployable)
    if job.precision == "fp32":
        return "xnnpack-fp32-delegable-norms", lower_to_pte(friendly, samples, path, job.dynamic, grid, etrecord)
    quantized = quantize_for_executorch(friendly, calibration, kept + norm_modules(friendly), job.dynamic, grid)
    return quantized.recipe, lower_to_pte(quantized.module, samples, path, job.dynamic, grid, etrecord)


def _build_tflite(deployable: Any, job: ArtifactJob, calibration: Sequence[np.ndarray], kept: list[str],
                  samples: int, path: Path, options: ExportOptions) -> tuple[str, dict[str, Any]]:
    """The ``.tflite``; returns the recipe and the entry's ``delegation`` (and ``input_quantization``)."""
    from fitedge.edge.lower.litert import float_interface, litert_delegation, litert_input_quantization, lower_to_tflite
    from fitedge.quantize.pt2e import quantize_for_litert

    if job.precision == "fp32":
        lower_to_tflite(deployable, samples, path)
        return "litert-torch-fp32", {"delegation": litert_delegation(path)}
    quantized = quantize_for_litert(deployable, calibration, kept, options.litert_int8)
    lower_to_tflite(quantized.module, samples, path, quantized.quantizer)
    if not options.integer_io:
        float_interface(path)
    # With --integer-io, fitedge.edge.runtime quantizes float audio for such a model; an app must do the same.
    return quantized.recipe, {"delegation": litert_delegation(path),
                              "input_quantization": litert_input_quantization(path)}


def _build_onnx(deployable: Any, job: ArtifactJob, model: ExportModel, calibration: Sequence[np.ndarray],
                kept: list[str], samples: int, path: Path, options: ExportOptions) -> str:
    from fitedge.edge.lower.onnx import lower_to_onnx
    from fitedge.quantize.onnx_recipe import quantize_onnx

    if job.precision == "fp32":
        lower_to_onnx(deployable, samples, path, model.spec.names, job.dynamic, model.length_grid)
        return "torch-onnx-dynamo-fp32-ort-fused"
    float_path = path.with_name(f".{path.stem}.float.onnx")
    lower_to_onnx(deployable, samples, float_path, model.spec.names, job.dynamic, model.length_grid)
    try:
        return quantize_onnx(float_path, path, calibration, kept, options.onnx_int8)
    finally:
        float_path.unlink(missing_ok=True)
