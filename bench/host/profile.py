"""Per-operator time of each exported artifact in its own runtime: the library behind ``fitedge bench --profile``.

Each backend profiles its own artifacts (:meth:`fitedge.edge.backends.Backend.profile`) or says why it cannot:
ONNX Runtime has a profiler in its pip wheel; the executorch wheel is built without the event tracer (a runtime
built with it writes an ETDump, kept in the output folder for the Inspector); LiteRT's Python Interpreter has none.
This module picks the artifacts, runs each backend's profiler and formats the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fitedge.bench.host.matrix import MatrixSettings
from fitedge.bench.host.targets import EAGER, Artifact, resolve_targets
from fitedge.edge.backends import BACKENDS, OpTime
from fitedge.edge.runtime.timing import bench_audio
from fitedge.errors import ConfigError


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
    etdump: str | None = None  # a runtime's own trace file (an ExecuTorch ETDump for its Inspector)

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
        return profile
    backend = BACKENDS.for_runtime(artifact.runtime)
    measured = backend.profile(artifact.path, bench_audio(samples), threads, warmup, iters, out_dir)
    profile.run_ms, profile.ops, profile.note, profile.etdump = measured.run_ms, measured.ops, measured.note, \
        measured.trace
    return profile


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
