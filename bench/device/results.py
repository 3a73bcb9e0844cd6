"""Device results (contract 3, written by the Android app's Java core), validated and turned into bench RUN records.

The contract is the JSON Schema ``device_results.schema.json`` beside this module; the core's JUnit tests
validate what the Java side writes against the same file.

The phone's runs become a device column of the same report: same statistics definitions (the core computes
p50/p90/p99 by linear interpolation and the population std, as :mod:`fitedge.bench.host.stats` does), sizes and
recipes taken from the host's view of the same bundle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fitedge.bench.host.stats import device_stats_as_metric
from fitedge.bench.host.targets import Artifact
from fitedge.bench.report.results import read_json
from fitedge.errors import DataError
from fitedge.jsonschemas import SchemaFile

SCHEMA = "fitedge.device_bench"
SCHEMA_VERSION = 1
SCHEMA_FILE = "device_results.schema.json"
KIB_PER_MIB = 1024.0

_SCHEMA = SchemaFile(__package__, SCHEMA_FILE)
schema_path = _SCHEMA.path


def validate_device_results(doc: Any, source: str = "device results") -> dict:
    """Return ``doc`` if it is valid against ``device_results.schema.json``, else raise a one-line DataError."""
    problem = _SCHEMA.problem(doc)
    if problem is not None:
        raise DataError(f"{source}: not a valid {SCHEMA} v{SCHEMA_VERSION} results file: {problem}")
    return doc


def read_device_results(path: str | Path) -> dict:
    """A contract-3 results file, validated; :class:`DataError` when it is unreadable or of another shape."""
    return validate_device_results(read_json(path, "device results"), str(path))


def device_id(doc: dict, serial: str | None) -> str:
    """The report's name for a device: ``android:SERIAL``, or ``android:MODEL`` for a file of unknown origin."""
    return f"android:{serial or doc['device'].get('model') or 'unknown'}"


def device_record(doc: dict, serial: str | None) -> dict:
    """The ``devices`` entry of results.json for the phone that wrote ``doc``."""
    return {"id": device_id(doc, serial), "app_version": doc.get("app_version"),
            **{k: doc["device"].get(k) for k in ("manufacturer", "model", "soc", "android_version", "sdk_int", "abi",
                                                 "thermal_status", "cores")}}


def run_record(run: dict, model: str, device: str, host: Artifact | None) -> dict:
    """One device run as a bench RUN record (see :mod:`fitedge.bench.report.results`)."""
    timings = [float(t) for t in run.get("timings_ms") or []]
    ok = run.get("error") is None and run.get("stats") is not None and len(timings) == run["iterations"]
    peak_kb = run.get("peak_memory_kb")
    return {
        "model": model, "artifact": host.label if host else run["artifact"], "runtime": run["runtime"],
        "precision": run.get("precision") or (host.precision if host else "unknown"),
        "recipe": host.recipe if host else None, "device": device,
        "status": "ok" if ok else "failed",
        "error": None if ok else (run.get("error") or "the app reported no complete timings"),
        "audio_seconds": float(run["audio_seconds"]), "input_samples": int(run["input_samples"]),
        "threads": int(run["threads"]), "warmup": int(run["warmup"]), "iterations": int(run["iterations"]),
        "bytes": host.bytes if host else None, "parameters": host.parameters if host else None, "macs": None,
        "load_ms": run.get("load_ms"), "first_inference_ms": run.get("first_inference_ms"),
        "timings_ms": timings if ok else [],
        "latency": device_stats_as_metric(run["stats"], len(timings)).to_dict() if ok else None,
        "rtf": run.get("rtf") if ok else None,
        "peak_rss_mb": round(peak_kb / KIB_PER_MIB, 1) if peak_kb else None, "baseline_rss_mb": None,
        "gflops": None, "peak_fraction": None,
        "delegation": host.delegation if host else None, "parity": host.parity if host else None,
    }


def device_runs(doc: dict, serial: str | None, artifacts: list[Artifact]) -> tuple[dict, list[dict]]:
    """The device entry and the RUN records of a validated contract-3 document."""
    model = doc["bundle"].get("model_name") or "unknown"
    by_name = {a.name: a for a in artifacts if a.model == model}
    device = device_id(doc, serial)
    return device_record(doc, serial), [run_record(r, model, device, by_name.get(r["artifact"])) for r in doc["runs"]]
