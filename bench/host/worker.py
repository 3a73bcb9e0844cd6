"""The child side of an isolated benchmark cell: ``python -m fitedge.bench.host.worker SPEC.json OUT.json``.

It imports one runtime, loads one artifact, times it and writes the raw numbers to ``OUT.json``. Running
each cell in a fresh process keeps runtimes from polluting each other's memory and thread pools, and lets
the parent survive a runtime that crashes or hangs (see :mod:`fitedge.bench.host.isolate`). Before each phase it
writes ``OUT.json.progress`` (the phase and the peak memory so far), so that a crash still says where it
happened and how much memory had been used.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fitedge.files import write_json


def status_kb(field: str) -> int | None:
    """A ``VmRSS``/``VmHWM``-style field of ``/proc/self/status`` in kB, or None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def import_runtime(runtime: str) -> None:
    """Import a runtime before the clock starts: load time is the model's, not the library's import."""
    import importlib

    from fitedge.edge.backends import BACKENDS

    for name in ("fitedge.edge.runtime", *BACKENDS.for_runtime(runtime).preload):
        try:
            importlib.import_module(name)
        except ImportError:  # e.g. tflite_runtime instead of LiteRT: load() reports what is really missing
            pass


def eager_target(source: str | None, config: dict | None) -> Any:
    """What ``runtime.load`` gets for eager PyTorch: the model source, or an encoder built from ``config``."""
    if source is not None:
        return source
    from fitedge.distill.models.config import EncoderConfig
    from fitedge.distill.models.encoder import build_encoder

    return build_encoder(EncoderConfig.from_dict(config)).for_inference()


def progress_path(out_path: Path) -> Path:
    return out_path.with_name(out_path.name + ".progress")


def note_phase(progress: Path, phase: str, baseline_kb: int | None) -> None:
    """Say which phase the child is in, and its memory so far, for a crash to be reported with."""
    write_json(progress, {"phase": phase, "baseline_rss_kb": baseline_kb, "peak_rss_kb": status_kb("VmHWM")})


def run_cell(spec: dict, progress: Path) -> dict:
    """Load and time the runner that ``spec`` names; return the raw result (no statistics)."""
    from fitedge.edge.runtime import load
    from fitedge.edge.runtime.timing import bench_audio, time_runner

    samples, threads = int(spec["samples"]), int(spec["threads"])
    wav = bench_audio(samples)
    import_runtime(spec["runtime"])
    baseline_kb = status_kb("VmRSS")
    if spec["runtime"] == "eager":
        def load_runner():
            target = eager_target(spec.get("source"), spec.get("config"))
            return load(target, threads=threads, outputs=spec.get("outputs", "last"))
    else:
        def load_runner():
            return load(spec["path"], threads=threads)
    timings = time_runner(load_runner, wav, int(spec["warmup"]), int(spec["iters"]),
                          lambda phase: note_phase(progress, phase, baseline_kb))
    return {**asdict(timings), "baseline_rss_kb": baseline_kb, "peak_rss_kb": status_kb("VmHWM")}


def main(argv: list[str]) -> int:
    spec_path, out_path = Path(argv[0]), Path(argv[1])
    spec = json.loads(spec_path.read_text())
    try:
        if spec.get("kind") == "stream":  # fitedge bench run --stream
            from fitedge.bench.host.streambench import run_stream_cell as run
        else:
            run = run_cell
        result, code = run(spec, progress_path(out_path)), 0
    except Exception as e:  # any failure of a runtime is data for the report, not a crash of the matrix
        result, code = {"error": f"{type(e).__name__}: {e}".splitlines()[0][:500],
                        "peak_rss_kb": status_kb("VmHWM")}, 1
    write_json(out_path, result)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
