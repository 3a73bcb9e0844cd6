"""Per-operator time of each exported artifact in its own runtime: the library behind ``fitedge bench --profile``.

What each runtime's pip package allows (executorch 1.4.1, ai-edge-litert 2.3.0, onnxruntime 1.32):

* **ONNX Runtime**: its profiler (``SessionOptions.enable_profiling``) writes a Chrome trace with one event
  per node run. Only the nodes inside the timed runs count (the trace also holds loading and warm-up), and
  the table sums them by op type.
* **ExecuTorch**: per-op times would come from an ETDump, read by ``executorch.devtools.Inspector`` together
  with the ETRecord that the export keeps beside each ``.pte``. The pip wheel is built without the event
  tracer (CMake ``EXECUTORCH_ENABLE_EVENT_TRACER`` off), so a program loaded with ``enable_etdump=True``
  records nothing and writes no file. The profile tries, and says so. A runtime built with the tracer
  writes the ETDump, which is kept in the output folder for the Inspector.
* **LiteRT**: the Python ``Interpreter`` has no profiler hook (the C++ ``tflite::Profiler`` and
  ``benchmark_model --enable_op_profiling`` are not in the wheel), so the profile says so.
"""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fitedge.bench.host.matrix import MatrixSettings
from fitedge.bench.host.targets import EAGER, Artifact, resolve_targets
from fitedge.console import third_party_output
from fitedge.edge import runtime
from fitedge.edge.runtime.timing import bench_audio
from fitedge.errors import ConfigError

LITERT_NOTE = ("no per-op profile: ai-edge-litert's Python Interpreter exposes no profiler (the C++ "
               "tflite::Profiler and benchmark_model --enable_op_profiling are not in the wheel)")
EXECUTORCH_NOTE = ("no per-op profile: this executorch wheel was built without the event tracer "
                   "(EXECUTORCH_ENABLE_EVENT_TRACER), so enable_etdump=True wrote no ETDump")


@dataclass
class OpTime:
    """One op type's time over all profiled runs."""

    op: str
    calls: int
    total_ms: float


@dataclass
class ArtifactProfile:
    """The per-op profile of one artifact, or why there is none (``note``)."""

    model: str
    artifact: str
    runtime: str
    precision: str
    samples: int
    threads: int
    runs: int
    run_ms: float | None = None  # mean wall time of one run as the runtime measured it
    ops: list[OpTime] = field(default_factory=list)  # slowest first
    note: str | None = None
    etdump: str | None = None  # an ExecuTorch ETDump kept for executorch.devtools.Inspector

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def profile_targets(targets: Sequence[str], settings: MatrixSettings, out_dir: Path) -> list[ArtifactProfile]:
    """Profile every artifact of ``targets`` (bundle folders or artifact files); an ETDump goes to ``out_dir``.

    Each runs at the first of ``settings.seconds`` and ``settings.threads`` (a static artifact at its own
    length), ``settings.warmup`` untimed and ``settings.iters`` profiled runs, in this process.
    """
    artifacts = [a for a in resolve_targets(list(targets), export=None) if a.runtime != EAGER]
    if not artifacts:
        raise ConfigError("--profile takes bundle folders or .pte/.tflite/.onnx files; found no artifact")
    out_dir.mkdir(parents=True, exist_ok=True)
    return [profile_artifact(a, settings, out_dir) for a in artifacts]


def profile_artifact(artifact: Artifact, settings: MatrixSettings, out_dir: Path) -> ArtifactProfile:
    """Run ``artifact`` with its runtime's profiler on, if it has one."""
    samples = artifact.input_samples or settings.samples(settings.seconds[0])
    threads, warmup, iters = settings.threads[0], settings.warmup, settings.iters
    profile = ArtifactProfile(artifact.model, artifact.label, artifact.runtime, artifact.precision, samples, threads,
                              iters)
    problem = artifact.length_problem(samples)
    if problem is not None:
        profile.note = f"not run: {samples} samples do not fit its {problem}"
    elif artifact.runtime == "onnxruntime":
        profile.run_ms, profile.ops = _profile_onnx(artifact.path, bench_audio(samples), threads, warmup, iters)
    elif artifact.runtime == "executorch":
        profile.etdump = _try_etdump(artifact.path, bench_audio(samples), threads, warmup + iters, out_dir)
        profile.note = (f"per-op times are in {profile.etdump}: read it with executorch.devtools.Inspector and the "
                        ".etrecord beside the .pte") if profile.etdump else EXECUTORCH_NOTE
    else:
        profile.note = LITERT_NOTE
    return profile


def _profile_onnx(path: Path, wav: Any, threads: int, warmup: int, iters: int) -> tuple[float, list[OpTime]]:
    """Mean run time and per-op-type totals of the last ``iters`` of ``warmup + iters`` runs."""
    import onnxruntime as ort

    runner = runtime.load(path, threads=threads)
    with tempfile.TemporaryDirectory(prefix="fitedge-ort-profile-") as tmp:
        # The runner's own session options plus the profiler, so feeds, cropping and checks are a timed run's.
        options = runner.session.get_session_options()
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "ort")
        runner.session = ort.InferenceSession(str(path), options, providers=runner.session.get_providers())
        for _ in range(warmup + iters):
            runner.run(wav)
        events = json.loads(Path(runner.session.end_profiling()).read_text())
    runs = [e for e in events if e.get("cat") == "Session" and e["name"] == "model_run"][-iters:]
    start = runs[0]["ts"]
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["ts"] >= start:
            entry = totals[e["args"]["op_name"]]
            entry[0] += 1
            entry[1] += e["dur"]  # microseconds
    ops = [OpTime(op, calls, round(us / 1000, 3)) for op, (calls, us) in totals.items()]
    return round(sum(r["dur"] for r in runs) / len(runs) / 1000, 3), sorted(ops, key=lambda o: -o.total_ms)


def _try_etdump(path: Path, wav: Any, threads: int, runs: int, out_dir: Path) -> str | None:
    """Run the ``.pte`` with ETDump on; the ETDump's path in ``out_dir``, or ``None`` when none was written."""
    import torch
    from executorch.runtime import Runtime

    runtime.load(path, threads=threads)  # sizes ExecuTorch's process-wide threadpool as a timed run does
    program = Runtime.get().load_program(path, enable_etdump=True)
    method = program.load_method("forward")
    for _ in range(runs):
        method.execute([torch.from_numpy(wav)])
    etdump = out_dir / f"{path.stem}.etdp"
    with third_party_output():  # a wheel without the tracer logs a rebuild hint; the profile's note says it
        program.write_etdump_result_to_file(str(etdump), str(out_dir / f"{path.stem}.debug.bin"))
    return str(etdump) if etdump.is_file() else None


def format_profile(profile: ArtifactProfile, top: int = 12) -> str:
    """A plain-text table: the ``top`` op types by time, per run and as a share of all op time."""
    head = (f"{profile.artifact} ({profile.runtime}, {profile.precision}, {profile.samples} samples, "
            f"{profile.threads} threads, {profile.runs} runs)")
    if not profile.ops:
        return f"{head}\n  {profile.note}"
    op_total = sum(o.total_ms for o in profile.ops)

    def row(name: str, calls: str, total_ms: float) -> str:
        return f"  {name:<28} {calls:>9} {total_ms / profile.runs:>9.3f} {100 * total_ms / op_total:>6.1f}%"

    lines = [head, f"  {'op':<28} {'calls/run':>9} {'ms/run':>9} {'share':>7}"]
    lines += [row(o.op, f"{o.calls / profile.runs:g}", o.total_ms) for o in profile.ops[:top]]
    rest = profile.ops[top:]
    if rest:
        lines.append(row(f"({len(rest)} more op types)", "", sum(o.total_ms for o in rest)))
    lines.append(f"  ops: {op_total / profile.runs:.3f} ms of {profile.run_ms:.3f} ms per run (the rest is the "
                 "runtime's own overhead)")
    return "\n".join(lines)
