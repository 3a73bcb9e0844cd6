"""The ``results.json`` schema (``fitedge.bench`` v1) and a hand-written validator for it.

A results file is::

    {"schema": "fitedge.bench", "schema_version": 1, "fitedge_version", "created" (ISO-8601 UTC),
     "environment": {kind, cpu_model, machine, cores, os, python, versions: {package: version|null},
                     load_average: {start, end: [1m, 5m, 15m] | null}},
     "peaks": [{threads, fp32_gflops, int8_gops|null, size}],       # this machine's measured GEMM peak
     "settings": {seconds: [..], threads: [..], warmup, iterations, timeout_s, reference|null},
     "devices": [{id, manufacturer, model, soc, android_version, sdk_int, abi, thermal_status, cores, app_version}],
     "runs": [RUN, ...],
     "comparisons": [{model, artifact, ..., size_pct, time_pct, speedup, paper_size_pct, paper_time_pct}],
     "headline": the fastest deployable artifact's comparison row | null,
     "scaling": {length: [{.., seconds, p50_ms, exponent, superlinear}], threads: [{.., speedup}],
                 attention_crossover_s: {model: seconds}},
     "notes": [str]}

and one RUN per artifact x audio length x threads x device (see ``RUN`` below): ``timings_ms`` holds every
timed run (warm-up excluded); ``latency`` its :class:`~fitedge.bench.host.stats.MetricStats`; ``status`` is "ok",
"failed" (``error`` says why: exception, crash signal, timeout) or "skipped" (e.g. a static-shape artifact
asked for another audio length). Sizes are bytes, times ms, memory MiB, ``rtf`` = latency / audio duration.
Every field is described in docs/bench/schema.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fitedge.errors import DataError

SCHEMA = "fitedge.bench"
SCHEMA_VERSION = 1

NUM = (int, float)
OPT_NUM = (int, float, type(None))
OPT_INT = (int, type(None))
OPT_STR = (str, type(None))
OPT_DICT = (dict, type(None))
STATUSES = frozenset({"ok", "failed", "skipped"})

STATS = {"name": str, "unit": str, "n": int, "mean": NUM, "std": NUM, "p50": NUM, "p90": NUM, "p99": NUM,
         "min": NUM, "max": NUM}
RUN = {
    "model": str, "artifact": str, "runtime": str, "precision": str, "recipe": OPT_STR,
    "device": str,                                   # "host" or "android:<serial>"
    "status": STATUSES, "error": OPT_STR,
    "audio_seconds": NUM, "input_samples": int, "threads": int, "warmup": int, "iterations": int,
    "bytes": OPT_INT, "parameters": OPT_INT, "macs": OPT_INT,
    "load_ms": OPT_NUM, "first_inference_ms": OPT_NUM, "timings_ms": [NUM], "latency": (STATS, type(None)),
    "rtf": OPT_NUM, "peak_rss_mb": OPT_NUM, "baseline_rss_mb": OPT_NUM,
    "gflops": OPT_NUM, "peak_fraction": OPT_NUM,   # achieved 2*MACs/p50 and its share of the measured peak
    "delegation": OPT_DICT, "parity": OPT_DICT,     # copied from the bundle manifest when there is one
}
PEAK = {"threads": int, "fp32_gflops": NUM, "int8_gops": OPT_NUM, "size": int}
DEVICE = {"id": str, "manufacturer": OPT_STR, "model": OPT_STR, "soc": OPT_STR, "android_version": OPT_STR,
          "sdk_int": OPT_INT, "abi": OPT_STR, "thermal_status": OPT_STR, "cores": OPT_INT, "app_version": OPT_STR}
RESULTS = {
    "schema": frozenset({SCHEMA}), "schema_version": int, "fitedge_version": str, "created": str,
    "environment": {"kind": str, "cpu_model": str, "machine": str, "cores": int, "os": str, "python": str,
                    "versions": dict, "load_average": {"start": ([NUM], type(None)), "end": ([NUM], type(None))}},
    "peaks": [PEAK],
    "settings": {"seconds": [NUM], "threads": [int], "warmup": int, "iterations": int, "timeout_s": NUM,
                 "reference": OPT_STR},
    "devices": [DEVICE], "runs": [RUN], "comparisons": [dict], "headline": OPT_DICT,
    "scaling": {"length": [dict], "threads": [dict], "attention_crossover_s": dict}, "notes": [str],
}

# Contract 3: what the Android app's benchmark mode writes (android_demo/core BenchResults), read by bench.
DEVICE_SCHEMA = "fitedge.device_bench"
DEVICE_STATS = {k: NUM for k in ("mean_ms", "std_ms", "p50_ms", "p90_ms", "p99_ms", "min_ms", "max_ms")}
DEVICE_RUN = {"artifact": str, "runtime": str, "precision": OPT_STR, "audio_seconds": NUM, "input_samples": int,
              "threads": int, "warmup": int, "iterations": int, "load_ms": OPT_NUM, "first_inference_ms": OPT_NUM,
              "timings_ms": ([NUM], type(None)), "stats": (DEVICE_STATS, type(None)), "rtf": OPT_NUM,
              "peak_memory_kb": OPT_INT, "error": OPT_STR}
DEVICE_RESULTS = {
    "schema": frozenset({DEVICE_SCHEMA}), "schema_version": frozenset({1}), "app_version": OPT_STR,
    "device": {k: v for k, v in DEVICE.items() if k not in ("id", "app_version")},
    "bundle": {"path": OPT_STR, "model_name": OPT_STR, "manifest_sha256": OPT_STR},
    "runs": [DEVICE_RUN],
}


def _check(value: Any, spec: Any, where: str, problems: list[str]) -> None:
    """Append to ``problems`` every way ``value`` departs from ``spec`` (type, alternatives, enum, list, record)."""
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            problems.append(f"{where}: expected an object, got {type(value).__name__}")
            return
        for key, sub in spec.items():
            if key not in value:
                problems.append(f"{where}.{key}: missing")
            else:
                _check(value[key], sub, f"{where}.{key}", problems)
    elif isinstance(spec, list):
        if not isinstance(value, list):
            problems.append(f"{where}: expected a list, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            _check(item, spec[0], f"{where}[{i}]", problems)
    elif isinstance(spec, frozenset):
        if value not in spec:
            problems.append(f"{where}: {value!r} is not one of {sorted(spec)}")
    elif isinstance(spec, tuple) and any(isinstance(s, (dict, list)) for s in spec):  # a record/list or null
        if value is not None:
            _check(value, next(s for s in spec if isinstance(s, (dict, list))), where, problems)
    elif isinstance(value, bool) or not isinstance(value, spec):  # bool is an int to Python, never to us
        problems.append(f"{where}: expected {_type_names(spec)}, got {type(value).__name__}")


def _type_names(spec: type | tuple) -> str:
    types = spec if isinstance(spec, tuple) else (spec,)
    return "|".join("null" if t is type(None) else t.__name__ for t in types)


def _check_run_consistency(run: dict, where: str, problems: list[str]) -> None:
    """Rules across fields: an ok run has every timing; a failed one says why."""
    if run.get("status") == "ok":
        if run.get("latency") is None or len(run.get("timings_ms", [])) != run.get("iterations"):
            problems.append(f"{where}: status ok needs latency and one timing per iteration")
    elif run.get("status") == "failed" and not run.get("error"):
        problems.append(f"{where}: status failed needs an error")


def schema_problems(doc: Any) -> list[str]:
    """Every schema violation of a results document, as ``path: what`` lines (empty when valid)."""
    problems: list[str] = []
    _check(doc, RESULTS, "results", problems)
    if isinstance(doc, dict) and doc.get("schema_version") not in (None, SCHEMA_VERSION):
        problems.append(f"results.schema_version: {doc['schema_version']} is not {SCHEMA_VERSION}")
    if isinstance(doc, dict) and isinstance(doc.get("runs"), list):
        for i, run in enumerate(doc["runs"]):
            if isinstance(run, dict):
                _check_run_consistency(run, f"results.runs[{i}]", problems)
    return problems


def _raise_if(problems: list[str], source: str, kind: str) -> None:
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise DataError(f"{source}: not a valid {kind} results file: {problems[0]}{more}")


def validate_results(doc: Any, source: str = "results") -> dict:
    """Return ``doc`` if it is a valid ``fitedge.bench`` v1 document, else raise :class:`DataError`."""
    _raise_if(schema_problems(doc), source, f"{SCHEMA} v{SCHEMA_VERSION}")
    return doc


def validate_device_results(doc: Any, source: str = "device results") -> dict:
    """Return ``doc`` if it is a valid contract-3 ``fitedge.device_bench`` v1 document, else raise DataError."""
    problems: list[str] = []
    _check(doc, DEVICE_RESULTS, "device_results", problems)
    _raise_if(problems, source, f"{DEVICE_SCHEMA} v1")
    return doc


def read_json(path: str | Path, what: str) -> Any:
    """The JSON in ``path``; :class:`DataError` naming ``what`` it should have been when it cannot be read."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"{path}: cannot read {what} ({e})") from None


def read_results(path: str | Path) -> dict:
    """A results.json file, validated; :class:`DataError` when unreadable or not a results file."""
    return validate_results(read_json(path, "results"), str(path))
