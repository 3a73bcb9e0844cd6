"""The bundle manifest (``manifest.json``): what an app, a benchmark or ``fitedge verify`` needs to know.

Schema ``fitedge.bundle`` version 1 (cross-team contract 2). This module builds the sections from the
objects they describe and reads a manifest back with a clear error when it is not one.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fitedge.errors import BundleError
from fitedge.version import __version__

SCHEMA = "fitedge.bundle"
SCHEMA_VERSION = 1
MANIFEST_FILE = "manifest.json"
FP32_THRESHOLDS = {"min_cosine": 0.99999, "max_abs_diff": 1e-3}
DEFAULT_INT8_MIN_COSINE = 0.98


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_manifest(model: dict[str, Any], audio: dict[str, Any], outputs: list[dict[str, Any]],
                 time_reduction_factor: int, int8_min_cosine: float) -> dict[str, Any]:
    """A manifest with the model, audio and output sections filled and no artifacts yet."""
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "fitedge_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": model,
        "audio": audio,
        "outputs": outputs,
        "time_reduction_factor": time_reduction_factor,
        "thresholds": {"fp32": dict(FP32_THRESHOLDS), "int8": {"min_cosine": int8_min_cosine}},
        "golden": {},
        "calibration": None,
        "artifacts": [],
    }


def audio_section(sample_rate: int, input_samples: int, dynamic: tuple[int, int] | None,
                  normalization: str, length_grid: tuple[int, int]) -> dict[str, Any]:
    """``input_samples`` is the golden/static length; ``dynamic`` the bounds where runtimes allow them.

    A dynamic artifact takes ``offset + multiple * k`` samples (``length_grid``: the conv front end's frame
    stride and receptive field minus stride); crop longer audio down to that grid, which drops only samples
    that fill no output frame. ``fitedge.edge.runtime`` does it for you.
    """
    grid = {"multiple": length_grid[0], "offset": length_grid[1]} if dynamic else None
    return {
        "sample_rate": sample_rate,
        "input_samples": input_samples,
        "dynamic": dynamic is not None,
        "min_samples": dynamic[0] if dynamic else None,
        "max_samples": dynamic[1] if dynamic else None,
        "length_grid": grid,
        "normalization": normalization,
        "dtype": "float32",
        "input_name": "wav",
        "input_shape": [1, input_samples],
    }


def write_manifest(folder: str | Path, doc: dict[str, Any]) -> Path:
    path = Path(folder) / MANIFEST_FILE
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of a bundle folder; :class:`BundleError` when it is missing or of another schema."""
    path = Path(folder) / MANIFEST_FILE
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise BundleError(f"{folder}: not a fitedge bundle (no {MANIFEST_FILE})") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BundleError(f"{path}: unreadable manifest ({e})") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise BundleError(f"{path}: not a {SCHEMA} manifest")
    if doc.get("schema_version") != SCHEMA_VERSION:
        version = doc.get("schema_version")
        raise BundleError(f"{path}: schema_version {version} is not supported (expected {SCHEMA_VERSION})")
    return doc


def find_artifact(doc: dict[str, Any], file_name: str) -> dict[str, Any] | None:
    """The manifest entry of the artifact called ``file_name``, if any."""
    return next((a for a in doc.get("artifacts", []) if a.get("file") == file_name), None)


def artifact_input_bounds(doc: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """What one artifact takes: a fixed ``input_samples``, or bounds and the length grid when dynamic."""
    audio = doc["audio"]
    if entry.get("static", True):
        return {"input_samples": audio["input_samples"], "min_samples": None, "max_samples": None,
                "length_grid": None}
    grid = audio["length_grid"]
    return {"input_samples": None, "min_samples": audio["min_samples"], "max_samples": audio["max_samples"],
            "length_grid": (grid["multiple"], grid["offset"])}
