"""The ``results.json`` of ``fitedge bench run`` (schema ``fitedge.bench`` version 1), typed and validated.

The contract is the JSON Schema file ``results.schema.json`` beside this module: it documents every key, and
every document is validated against it when it is built, written and read. One rule is beyond JSON Schema and
checked after it: an ok run holds one timing per iteration.

:class:`BenchResults` is the typed view. Each part is a small dataclass whose fields are the keys the schema
requires; optional or newer keys stay in its ``extra`` dict, so reading and writing a file changes nothing.

Versions: 1 is the only one. Keys added during v1 (``environment.cpu``, ``settings.processes``,
``runs[].process_p50_ms``, ``advice``, ``streams``) are optional, so files written before them read as they
are; a file of another ``schema_version`` is refused with one line saying so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from fitedge.errors import DataError
from fitedge.jsonschemas import SchemaFile
from fitedge.records import Section
from fitedge.version import __version__

SCHEMA = "fitedge.bench"
SCHEMA_VERSION = 1
RESULTS_FILE = "results.json"
SCHEMA_FILE = "results.schema.json"
STATUSES = ("ok", "failed", "skipped")

_SCHEMA = SchemaFile(__package__, SCHEMA_FILE)
schema_path = _SCHEMA.path


@dataclass
class Latency(Section):
    """A cell's timings summarised (:class:`fitedge.bench.host.stats.MetricStats` as JSON)."""

    name: str
    unit: str
    n: int
    mean: float
    std: float
    p50: float
    p90: float
    p99: float
    min: float
    max: float


@dataclass
class Run(Section):
    """One artifact x audio length x threads x device. ``extra`` holds ``process_p50_ms``."""

    model: str
    artifact: str
    runtime: str
    precision: str
    recipe: str | None
    device: str
    status: str
    error: str | None
    audio_seconds: float
    input_samples: int
    threads: int
    warmup: int
    iterations: int
    bytes: int | None
    parameters: int | None
    macs: int | None
    load_ms: float | None
    first_inference_ms: float | None
    timings_ms: list[float]
    latency: Latency | None
    rtf: float | None
    peak_rss_mb: float | None
    baseline_rss_mb: float | None
    gflops: float | None
    peak_fraction: float | None
    delegation: dict[str, Any] | None
    parity: dict[str, Any] | None
    NESTED: ClassVar = {"latency": Latency}
    ORDER: ClassVar = ("model", "artifact", "runtime", "precision", "recipe", "device", "status", "error",
                       "audio_seconds", "input_samples", "threads", "warmup", "iterations", "bytes", "parameters",
                       "macs", "load_ms", "first_inference_ms", "timings_ms", "process_p50_ms", "latency", "rtf",
                       "peak_rss_mb", "baseline_rss_mb", "gflops", "peak_fraction", "delegation", "parity")

    @property
    def process_p50_ms(self) -> list[float]:
        """The p50 of each of the cell's processes, in the order they ran (empty in older files)."""
        return self.extra.get("process_p50_ms", [])

    def problem(self) -> str | None:
        """What the schema cannot say: an ok run has one timing per iteration."""
        if self.status == "ok" and len(self.timings_ms) != self.iterations:
            return f"status ok needs one timing per iteration ({len(self.timings_ms)} for {self.iterations})"
        return None


@dataclass
class Peak(Section):
    """This machine's measured GEMM peak at one thread count."""

    threads: int
    fp32_gflops: float
    int8_gops: float | None
    size: int


@dataclass
class Settings(Section):
    """How the matrix ran. ``extra`` holds ``processes`` (absent in older files: 1)."""

    seconds: list[float]
    threads: list[int]
    warmup: int
    iterations: int
    timeout_s: float
    reference: str | None
    ORDER: ClassVar = ("seconds", "threads", "warmup", "iterations", "timeout_s", "processes", "reference")


@dataclass
class LoadAverage(Section):
    """1, 5 and 15-minute load averages before and after measuring (``None`` where the OS has none)."""

    start: list[float] | None
    end: list[float] | None


@dataclass
class Environment(Section):
    """The host that measured. ``extra`` holds ``cpu`` (model, class, ISA features)."""

    kind: str
    cpu_model: str
    machine: str
    cores: int
    os: str
    python: str
    versions: dict[str, str | None]
    load_average: LoadAverage
    NESTED: ClassVar = {"load_average": LoadAverage}
    ORDER: ClassVar = ("kind", "cpu_model", "cpu", "machine", "cores", "os", "python", "versions", "load_average")


@dataclass
class DeviceInfo(Section):
    """A phone that contributed runs (from its contract-3 results file)."""

    id: str
    manufacturer: str | None
    model: str | None
    soc: str | None
    android_version: str | None
    sdk_int: int | None
    abi: str | None
    thermal_status: str | None
    cores: int | None
    app_version: str | None


@dataclass
class Comparison(Section):
    """An ok run against the reference model's fp32 eager run of the same cell."""

    model: str
    artifact: str
    runtime: str
    precision: str
    device: str
    audio_seconds: float
    threads: int
    reference: str
    size_pct: float | None
    time_pct: float
    speedup: float
    paper_size_pct: float
    paper_time_pct: float


@dataclass
class Scaling(Section):
    """Latency against audio length and against threads (rows as :mod:`fitedge.bench.host.scaling` makes them)."""

    length: list[dict[str, Any]]
    threads: list[dict[str, Any]]
    attention_crossover_s: dict[str, float]


@dataclass
class BenchResults(Section):
    """A ``results.json``, typed. ``extra`` holds ``advice`` and ``streams`` (``fitedge bench run --stream``)."""

    environment: Environment
    peaks: list[Peak]
    settings: Settings
    devices: list[DeviceInfo]
    runs: list[Run]
    comparisons: list[Comparison]
    headline: Comparison | None
    scaling: Scaling
    notes: list[str]
    schema: str = SCHEMA
    schema_version: int = SCHEMA_VERSION
    fitedge_version: str = __version__
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    NESTED: ClassVar = {"environment": Environment, "peaks": [Peak], "settings": Settings, "devices": [DeviceInfo],
                        "runs": [Run], "comparisons": [Comparison], "headline": Comparison, "scaling": Scaling}
    ORDER: ClassVar = ("schema", "schema_version", "fitedge_version", "created", "environment", "peaks", "settings",
                       "devices", "runs", "comparisons", "headline", "scaling", "notes", "advice", "streams")

    @classmethod
    def read(cls, path: str | Path) -> BenchResults:
        """A results file, validated; a one-line :class:`DataError` when unreadable or not a valid results file."""
        return cls.from_dict(validate_results(read_json(path, "results"), str(path)))

    def write(self, path: str | Path) -> Path:
        """Validate, then write ``path`` atomically."""
        return write_results(path, self.to_dict())


def schema_problem(doc: Any) -> str | None:
    """The most relevant violation of the schema, or of the one rule beyond it, as ``$.json.path: what``."""
    problem = _SCHEMA.problem(doc)
    if problem is not None:
        return problem
    for i, run in enumerate(doc["runs"]):
        run_problem = Run.from_dict(run).problem()
        if run_problem is not None:
            return f"$.runs[{i}]: {run_problem}"
    return None


def validate_results(doc: Any, source: str = "results") -> dict[str, Any]:
    """Return ``doc`` if it is a valid ``fitedge.bench`` v1 document, else raise a one-line :class:`DataError`."""
    # Checked before the schema so that another document or another version says so plainly.
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise DataError(f"{source}: not a {SCHEMA} results file")
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise DataError(f"{source}: schema_version {doc.get('schema_version')} is not supported "
                        f"(expected {SCHEMA_VERSION})")
    problem = schema_problem(doc)
    if problem is not None:
        raise DataError(f"{source}: not a valid {SCHEMA} v{SCHEMA_VERSION} results file: {problem}")
    return doc


def new_document(**parts: Any) -> dict[str, Any]:
    """A results document: the schema header (name, version, tool version, creation time), then ``parts``."""
    return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "fitedge_version": __version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds"), **parts}


def read_json(path: str | Path, what: str) -> Any:
    """The JSON in ``path``; :class:`DataError` naming ``what`` it should have been when it cannot be read."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"{path}: cannot read {what} ({e})") from None


def read_results(path: str | Path) -> dict[str, Any]:
    """A results file, validated, as plain JSON (for code that reports or compares it whole)."""
    return BenchResults.read(path).to_dict()


def write_results(path: str | Path, doc: dict[str, Any]) -> Path:
    """Validate ``doc``, then write it to ``path`` atomically; nothing is written when it is invalid."""
    from fitedge.files import write_json

    validate_results(doc, f"{path} (refusing to write it)")
    return write_json(path, doc, indent=1)
