"""The benchmark matrix: every artifact x audio length x thread count, each cell in fresh processes.

A cell is timed in several processes, in rounds over all cells, and the one with the median p50 speaks for it.
On a shared 2-core VM one process in five or so ran a given int8 artifact 1.5x slower from its first run to its
last (ONNX Runtime and LiteRT alike, the same file: 29-31 ms in five processes, 47 ms in the sixth), and slow
spells lasted minutes, so one process per cell, or a cell's processes back to back, could rank two runtimes
either way.

A cell that cannot run (a static artifact asked for another length) is recorded as skipped; one that fails
(an exception, a crash, a hang past the timeout) in any of its processes is recorded with its error, and the
matrix goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fitedge.bench.host.isolate import run_isolated
from fitedge.bench.host.settings import MatrixSettings
from fitedge.bench.host.stats import summarize
from fitedge.bench.host.targets import EAGER, Artifact
from fitedge.edge.backends import BACKENDS

log = logging.getLogger(__name__)

KIB_PER_MIB = 1024.0


@dataclass(frozen=True)
class Cell:
    artifact: Artifact
    seconds: float
    threads: int


def plan_cells(artifacts: Iterable[Artifact], settings: MatrixSettings) -> list[Cell]:
    """Every artifact x length x threads, artifact-major so that one artifact's rows stay together."""
    return [Cell(a, s, t) for a in artifacts for s in settings.seconds for t in settings.threads]


def worker_spec(cell: Cell, settings: MatrixSettings) -> dict:
    """What the child process needs to load and time one cell."""
    a = cell.artifact
    spec = {"runtime": a.runtime, "samples": settings.samples(cell.seconds), "threads": cell.threads,
            "warmup": settings.warmup, "iters": settings.iters}
    if a.runtime == EAGER:
        return {**spec, "source": a.source, "config": a.config, "outputs": a.outputs}
    return {**spec, "path": str(a.path)}


def base_record(cell: Cell, settings: MatrixSettings) -> dict:
    """The RUN record's identity and static facts (see :mod:`fitedge.bench.report.results`), before any timing."""
    a = cell.artifact
    return {
        "model": a.model, "artifact": a.label, "runtime": a.runtime, "precision": a.precision, "recipe": a.recipe,
        "device": "host", "status": "skipped", "error": None,
        "audio_seconds": float(cell.seconds), "input_samples": settings.samples(cell.seconds),
        "threads": cell.threads, "warmup": settings.warmup, "iterations": settings.iters,
        "bytes": a.bytes, "parameters": a.parameters, "macs": None,
        "load_ms": None, "first_inference_ms": None, "timings_ms": [], "process_p50_ms": [], "latency": None,
        "rtf": None,
        "peak_rss_mb": None, "baseline_rss_mb": None, "gflops": None, "peak_fraction": None,
        "delegation": a.delegation, "parity": a.parity,
    }


def mib(kb: int | None) -> float | None:
    """kB (as /proc/self/status gives them) in MiB, one decimal; None stays None."""
    return round(kb / KIB_PER_MIB, 1) if kb else None


def timed_record(record: dict, results: list[dict]) -> dict:
    """Fill a record from the children's raw results: the median process's timings, statistics, RTF and memory.

    ``process_p50_ms`` keeps every process's p50, in the order they ran, so a slow one stays visible.
    """
    failed = next((r for r in results if r.get("error")), None)
    if failed is not None:
        return {**record, "status": "failed", "error": failed["error"], "peak_rss_mb": mib(failed.get("peak_rss_kb")),
                "baseline_rss_mb": mib(failed.get("baseline_rss_kb"))}
    latencies = [summarize(r["timings_ms"]) for r in results]
    median = sorted(range(len(results)), key=lambda i: latencies[i].p50)[(len(results) - 1) // 2]
    typical, latency = results[median], latencies[median]
    return {**record, "status": "ok", "load_ms": typical["load_ms"],
            "first_inference_ms": typical["first_inference_ms"], "timings_ms": typical["timings_ms"],
            "latency": latency.to_dict(), "rtf": latency.p50 / (1000.0 * record["audio_seconds"]),
            "peak_rss_mb": mib(typical.get("peak_rss_kb")), "baseline_rss_mb": mib(typical.get("baseline_rss_kb")),
            "process_p50_ms": [round(t.p50, 3) for t in latencies]}


def run_matrix(artifacts: Iterable[Artifact], settings: MatrixSettings,
               on_cell: Callable[[dict], None] | None = None) -> list[dict]:
    """RUN records of every cell, timed in ``settings.processes`` rounds of one fresh process per cell.

    Rounds, not a cell's processes back to back: a slow spell of a shared machine then falls on one process of
    many cells instead of on every process of one cell. ``on_cell`` (e.g. a progress bar) sees each cell's
    record as it stands after each of its processes.
    """
    cells = plan_cells(artifacts, settings)
    records = [_skipped_or_base(cell, settings) for cell in cells]
    results: list[list[dict]] = [[] for _ in cells]
    for round_ in range(settings.processes):
        for record, cell, done in zip(records, cells, results):
            if record["error"]:  # skipped: said once
                if round_ == 0 and on_cell is not None:
                    on_cell(record)
                continue
            if any(r.get("error") for r in done):  # a crash or a hang would only repeat itself
                continue
            log.info("timing %s %s, %.1f s, %d threads", cell.artifact.model, cell.artifact.label, cell.seconds,
                     cell.threads)
            done.append(run_isolated(worker_spec(cell, settings), settings.timeout_s))
            if on_cell is not None:
                on_cell(timed_record(record, done))
    return [record if record["error"] else timed_record(record, done) for record, done in zip(records, results)]


def _skipped_or_base(cell: Cell, settings: MatrixSettings) -> dict:
    """The cell's record before timing; with its ``error`` set when it cannot run at this length, or here at all
    (its runtime is not installed: the error names the extra)."""
    record = base_record(cell, settings)
    missing = BACKENDS.for_runtime(cell.artifact.runtime).runtime_missing()
    if missing:
        return {**record, "error": missing}
    problem = cell.artifact.length_problem(record["input_samples"])
    return {**record, "error": f"{problem}; asked for {record['input_samples']}"} if problem else record
