"""The bundle manifest (``manifest.json``): what an app, a benchmark or ``fitedge verify`` needs to know.

Schema ``fitedge.bundle`` version 1 (cross-team contract 2). The contract is the JSON Schema file
``manifest.schema.json`` beside this module: Python validates against it on every read and write, the Android
core's tests validate the same files against the same file, and it documents every key.

:class:`Manifest` is the typed view. Each section is a small dataclass whose fields are the keys the schema
requires; every optional or newer key stays in the section's ``extra`` dict, untouched, so reading and writing
a manifest changes nothing, not even the key order (a bundle's sha256 in device results stays meaningful).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from fitedge.edge.bundle.thresholds import FP32_THRESHOLDS
from fitedge.errors import BundleError
from fitedge.jsonschemas import SchemaFile
from fitedge.parity import Parity
from fitedge.records import Section
from fitedge.version import __version__

SCHEMA = "fitedge.bundle"
SCHEMA_VERSION = 1
MANIFEST_FILE = "manifest.json"
SCHEMA_FILE = "manifest.schema.json"
# Whether Manifest.read validates against the schema. Only the emulated arm64 child turns it off: its minimal
# environment has the runtimes but not jsonschema, and the host validated the same bundle before starting it.
VALIDATE_ON_READ = True


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the schema -----------------------------------------------------------------------------------------------

# Runtime name -> artifact suffix, as the registered backends declare them (fitedge.edge.backends registers each,
# plugins included). The schema file lists the built-in ones for the Java core; Python validates with these.
RUNTIMES: dict[str, str] = {}


def with_runtimes(schema: dict[str, Any], runtimes: dict[str, str]) -> dict[str, Any]:
    """``schema`` whose artifact ``runtime`` names and per-runtime file suffixes are exactly ``runtimes``."""
    import copy
    import re

    schema = copy.deepcopy(schema)
    artifact = schema["$defs"]["artifact"]
    suffixes = "|".join(re.escape(suffix[1:]) for suffix in runtimes.values())
    artifact["properties"]["file"]["pattern"] = f"^[^/\\\\]+\\.({suffixes})$"
    artifact["properties"]["runtime"]["enum"] = list(runtimes)
    artifact["allOf"] = [{"if": {"properties": {"runtime": {"const": name}}},
                          "then": {"properties": {"file": {"pattern": f"{re.escape(suffix)}$"}}}}
                         for name, suffix in runtimes.items()]
    return schema


def _registered_runtimes(schema: dict[str, Any]) -> dict[str, Any]:
    return with_runtimes(schema, RUNTIMES) if RUNTIMES else schema


_SCHEMA = SchemaFile(__package__, SCHEMA_FILE, adapt=_registered_runtimes)
schema_path = _SCHEMA.path
schema_problem = _SCHEMA.problem


def register_runtime(name: str, suffix: str) -> None:
    """Accept artifacts of runtime ``name`` with files ending in ``suffix`` (a backend registering itself)."""
    RUNTIMES[name] = suffix
    _SCHEMA.forget()


def validate(doc: Any, source: str) -> None:
    """Raise a one-line :class:`BundleError` naming ``source`` and the JSON path of the most relevant violation."""
    problem = schema_problem(doc)
    if problem is not None:
        raise BundleError(f"{source}: not a valid {SCHEMA} v{SCHEMA_VERSION} manifest: {problem}")


@dataclass
class ModelInfo(Section):
    """``model``: which encoder, from where, its configuration (open-ended) and weights' fingerprint."""

    name: str
    source: str
    trained: bool
    config: dict[str, Any]
    weights_sha256: str
    parameters: int
    ORDER: ClassVar = ("name", "source", "trained", "seed", "config", "weights_sha256", "parameters")


@dataclass
class AudioSpec(Section):
    """``audio``: what the artifacts take. ``input_samples`` is the golden/static length."""

    sample_rate: int
    input_samples: int
    dynamic: bool
    min_samples: int | None
    max_samples: int | None
    length_grid: dict[str, int] | None
    normalization: str
    dtype: str
    input_name: str
    input_shape: list[int]

    @classmethod
    def build(cls, sample_rate: int, input_samples: int, dynamic: tuple[int, int] | None, normalization: str,
              length_grid: tuple[int, int]) -> AudioSpec:
        """``dynamic``: the bounds where runtimes allow them, else ``None``.

        A dynamic artifact takes ``offset + multiple * k`` samples (``length_grid``: the conv front end's frame
        stride and receptive field minus stride); crop longer audio down to that grid, which drops only samples
        that fill no output frame. ``fitedge.edge.runtime`` does it for you.
        """
        grid = {"multiple": length_grid[0], "offset": length_grid[1]} if dynamic else None
        return cls(sample_rate, input_samples, dynamic is not None, dynamic[0] if dynamic else None,
                   dynamic[1] if dynamic else None, grid, normalization, "float32", "wav", [1, input_samples])

    @property
    def grid(self) -> tuple[int, int] | None:
        """``length_grid`` as ``(multiple, offset)``."""
        return None if self.length_grid is None else (self.length_grid["multiple"], self.length_grid["offset"])


@dataclass
class OutputInfo(Section):
    """One model output, in the order the artifacts return them."""

    name: str
    shape: list[int]
    layer: int | None
    frame_hop_ms: float


@dataclass
class Thresholds(Section):
    """``thresholds``: the parity an artifact must reach, per precision."""

    fp32: dict[str, float]
    int8: dict[str, float]

    @classmethod
    def build(cls, int8_min_cosine: float) -> Thresholds:
        """The fixed float thresholds and the export's int8 cosine floor (``--min-cosine``)."""
        return cls(dict(FP32_THRESHOLDS), {"min_cosine": int8_min_cosine})


@dataclass
class GoldenFile(Section):
    """A golden array: ``.npy`` and raw little-endian float32 ``.bin`` (whose sha256 this is), paths relative."""

    npy: str
    bin: str
    shape: list[int]
    sha256: str


@dataclass
class Golden(Section):
    """``golden``: the golden input and the eager outputs on it, by output name."""

    input: GoldenFile
    outputs: dict[str, GoldenFile]
    NESTED: ClassVar = {"input": GoldenFile, "outputs": {GoldenFile}}


@dataclass
class ArtifactParity(Section):
    """An artifact's parity at export; ``extra`` holds ``passed`` (int8), ``verified_on`` and ``decisions`` (int8 with
    a CTC head: the share of held-out frames whose best token is fp32 eager's)."""

    cosine: float
    max_abs_diff: float
    snr_db: float
    against: str
    audio: str

    @property
    def numbers(self) -> Parity:
        """The three numbers as :class:`fitedge.parity.Parity` (for ``describe()`` and comparisons)."""
        return Parity(self.cosine, self.max_abs_diff, self.snr_db)

    @property
    def passed(self) -> bool | None:
        """int8 only: ``False`` when kept below the floor with ``--allow-degraded``."""
        return self.extra.get("passed")


@dataclass
class ArtifactEntry(Section):
    """One artifact. Optional keys (``delegation``, ``input_quantization``, ``etrecord``, ``int8_policy``,
    ``decisions_floor``, ``latency_vs_fastest``, ``per``, ``parity_arm64``) live in ``extra``."""

    file: str
    runtime: str
    runtime_version: str
    precision: str
    recipe: str
    keep_float: list[str]
    static: bool
    bytes: int
    sha256: str
    parity: ArtifactParity
    latency_ms: float | None
    NESTED: ClassVar = {"parity": ArtifactParity}
    ORDER: ClassVar = ("file", "runtime", "runtime_version", "precision", "recipe", "keep_float", "static", "bytes",
                       "sha256", "delegation", "input_quantization", "etrecord", "parity", "int8_policy",
                       "decisions_floor", "latency_ms", "latency_vs_fastest", "per", "parity_arm64")


@dataclass
class Manifest(Section):
    """A bundle's ``manifest.json``, typed. ``extra`` holds ``head``, ``streaming``, ``int8_policy``, ``per_gate``,
    ``arm64``."""

    model: ModelInfo
    audio: AudioSpec
    outputs: list[OutputInfo]
    time_reduction_factor: int
    thresholds: Thresholds
    golden: Golden
    calibration: dict[str, Any] | None
    artifacts: list[ArtifactEntry]
    timing: dict[str, Any]
    schema: str = SCHEMA
    schema_version: int = SCHEMA_VERSION
    fitedge_version: str = __version__
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    NESTED: ClassVar = {"model": ModelInfo, "audio": AudioSpec, "outputs": [OutputInfo], "thresholds": Thresholds,
                        "golden": Golden, "artifacts": [ArtifactEntry]}
    ORDER: ClassVar = ("schema", "schema_version", "fitedge_version", "created", "model", "audio", "streaming",
                       "outputs", "head", "time_reduction_factor", "thresholds", "golden", "calibration", "artifacts",
                       "int8_policy", "timing", "per_gate", "arm64")

    @classmethod
    def read(cls, folder: str | Path) -> Manifest:
        """The manifest of a bundle folder; a one-line :class:`BundleError` when missing, of another schema or
        version, or not valid against ``manifest.schema.json`` (naming the JSON path of the violation)."""
        path = Path(folder) / MANIFEST_FILE
        try:
            doc = json.loads(path.read_text())
        except FileNotFoundError:
            raise BundleError(f"{folder}: not a fitedge bundle (no {MANIFEST_FILE})") from None
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
            raise BundleError(f"{path}: unreadable manifest ({e})") from None
        # Checked before the schema so that another document or a newer version says so plainly.
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise BundleError(f"{path}: not a {SCHEMA} manifest")
        if doc.get("schema_version") != SCHEMA_VERSION:
            version = doc.get("schema_version")
            raise BundleError(f"{path}: schema_version {version} is not supported (expected {SCHEMA_VERSION})")
        if VALIDATE_ON_READ:
            validate(doc, str(path))
        return cls.from_dict(doc)

    def write(self, folder: str | Path) -> Path:
        """Validate, then write ``folder/manifest.json`` atomically (a reader never sees half a manifest)."""
        from fitedge.files import write_json

        doc = self.to_dict()
        path = Path(folder) / MANIFEST_FILE
        validate(doc, f"{path} (refusing to write it)")
        return write_json(path, doc)

    def artifact(self, file_name: str) -> ArtifactEntry | None:
        """The entry of the artifact called ``file_name``, if any."""
        return next((a for a in self.artifacts if a.file == file_name), None)

    @property
    def streaming(self) -> dict[str, int] | None:
        """The ``streaming`` section (``fitedge export --chunk-ms``: the static input is one window), or ``None``."""
        return self.extra.get("streaming")

    def output_names(self) -> list[str]:
        """The outputs' names, in the order every artifact returns them."""
        return [o.name for o in self.outputs]

    def input_bounds(self, entry: ArtifactEntry) -> dict[str, Any]:
        """What one artifact takes: a fixed ``input_samples``, or bounds and the length grid when dynamic."""
        if entry.static:
            return {"input_samples": self.audio.input_samples, "min_samples": None, "max_samples": None,
                    "length_grid": None}
        return {"input_samples": None, "min_samples": self.audio.min_samples, "max_samples": self.audio.max_samples,
                "length_grid": self.audio.grid}


def read_bundle_manifest(folder: str | Path) -> dict[str, Any]:
    """The validated manifest of a bundle folder as plain JSON, for code that reports or copies it whole."""
    return Manifest.read(folder).to_dict()
