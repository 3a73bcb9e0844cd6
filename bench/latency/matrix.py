"""The benchmark matrix: every artifact x audio length x thread count, each cell in its own process.

A cell that cannot run (a static artifact asked for another length) is recorded as skipped; one that fails
(an exception, a crash, a hang past the timeout) is recorded with its error, and the matrix goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fitedge.bench.latency.isolate import run_isolated
from fitedge.bench.latency.stats import summarize
from fitedge.bench.latency.targets import EAGER, Artifact

log = logging.getLogger(__name__)

KIB_PER_MIB = 1024.0


@dataclass(frozen=True)
class MatrixSettings:
    """How each cell runs.

    Attributes:
        seconds: audio lengths to time, in seconds.
        threads: CPU thread counts to time.
        warmup: untimed runs after the first inference.
        iters: timed runs per cell.
        timeout_s: wall-clock limit of one cell (load + every run) before it is killed and marked failed.
        sample_rate: audio sample rate (the whole family is 16 kHz).
    """

    seconds: tuple[float, ...] = (4.0,)
    threads: tuple[int, ...] = (2,)
    warmup: int = 5
    iters: int = 30
    timeout_s: float = 300.0
    sample_rate: int = 16000

    def samples(self, seconds: float) -> int:
        return int(round(seconds * self.sample_rate))


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
    """The RUN record's identity and static facts (see :mod:`fitedge.bench.report.schema`), before any timing."""
    a = cell.artifact
    return {
        "model": a.model, "artifact": a.label, "runtime": a.runtime, "precision": a.precision, "recipe": a.recipe,
        "device": "host", "status": "skipped", "error": None,
        "audio_seconds": float(cell.seconds), "input_samples": settings.samples(cell.seconds),
        "threads": cell.threads, "warmup": settings.warmup, "iterations": settings.iters,
        "bytes": a.bytes, "parameters": a.parameters, "macs": None,
        "load_ms": None, "first_inference_ms": None, "timings_ms": [], "latency": None, "rtf": None,
        "peak_rss_mb": None, "baseline_rss_mb": None, "gflops": None, "peak_fraction": None,
        "delegation": a.delegation, "parity": a.parity,
    }


def _mib(kb: int | None) -> float | None:
    return round(kb / KIB_PER_MIB, 1) if kb else None


def timed_record(record: dict, result: dict) -> dict:
    """Fill a record from the child's raw result: timings, their statistics, RTF and memory."""
    record = {**record, "peak_rss_mb": _mib(result.get("peak_rss_kb")),
              "baseline_rss_mb": _mib(result.get("baseline_rss_kb"))}
    if result.get("error"):
        return {**record, "status": "failed", "error": result["error"]}
    latency = summarize(result["timings_ms"])
    return {**record, "status": "ok", "load_ms": result["load_ms"], "first_inference_ms": result["first_inference_ms"],
            "timings_ms": result["timings_ms"], "latency": latency.to_dict(),
            "rtf": latency.p50 / (1000.0 * record["audio_seconds"])}


def run_cell(cell: Cell, settings: MatrixSettings) -> dict:
    """Measure one cell (or record why it was skipped)."""
    record = base_record(cell, settings)
    problem = cell.artifact.length_problem(record["input_samples"])
    if problem:
        return {**record, "error": f"{problem}; asked for {record['input_samples']}"}
    log.info("timing %s %s, %.1f s, %d threads", cell.artifact.model, cell.artifact.label, cell.seconds, cell.threads)
    return timed_record(record, run_isolated(worker_spec(cell, settings), settings.timeout_s))


def run_matrix(artifacts: Iterable[Artifact], settings: MatrixSettings,
               on_cell: Callable[[dict], None] | None = None) -> list[dict]:
    """RUN records of every cell; ``on_cell`` (e.g. a progress bar) sees each record as it is done."""
    records = []
    for cell in plan_cells(artifacts, settings):
        records.append(run_cell(cell, settings))
        if on_cell is not None:
            on_cell(records[-1])
    return records
