"""Live-speech numbers of a bundle, measured: ``fitedge stream``.

For each artifact (and eager PyTorch) and each chunk/context setting it can serve, one utterance is streamed
through :class:`fitedge.edge.stream.stream.Stream` in 20 ms feeds, and the report gives the real-time factor,
the per-window compute p50/p99, the algorithmic latency, the first-frame latency, the peak RSS, and the cosine
of every streamed frame against the full-utterance eager output (mean and worst) and, when the outputs hold a
CTC head's ``logits``, the phoneme error rate of the streamed greedy decoding against the full-utterance one. A
static artifact serves only the setting of its own window; a dynamic one and eager serve every setting.

The first-frame latency puts the audio on its real clock (sample ``i`` arrives at ``i / 16`` ms) and adds the
measured wall-clock compute of the first window: the time from the first sample until frame 0 is emitted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from fitedge.edge.stream.geometry import SAMPLE_RATE, StreamGeometry, is_chunked, model_hop_and_receptive
from fitedge.edge.stream.source import StreamSettings
from fitedge.edge.stream.stream import Stream
from fitedge.errors import ConfigError

FEED_SAMPLES = 320  # 20 ms, a typical microphone buffer
EAGER = "eager"
LOGITS = "logits"  # a CTC head's output (fitedge export --head)
SWEEP_CHUNKS_MS = (160.0, 320.0, 640.0, 1280.0)
SWEEP_LEFTS_MS = (640.0, 1280.0, 2560.0)


def settings_grid(chunks_ms: Sequence[float], lefts_ms: Sequence[float], rights_ms: Sequence[float],
                  fill_edges: bool = False) -> list[StreamSettings]:
    """Every combination, chunk first (each with ``fill_edges``)."""
    return [StreamSettings(c, left, right, fill_edges) for c in chunks_ms for left in lefts_ms for right in rights_ms]


@dataclass(frozen=True)
class StreamTarget:
    """Something to stream: a label, how to load its runner, and what it returns and takes."""

    name: str
    runtime: str
    precision: str
    load: Callable[[], Any]
    static_samples: int | None  # the window a static artifact takes; None: any


@dataclass(frozen=True)
class StreamResult:
    """The measured numbers of one target at one setting (times in ms, memory in MB)."""

    artifact: str
    runtime: str
    precision: str
    chunk_ms: float
    left_ms: float
    right_ms: float
    geometry: dict[str, int]
    windows: int
    frames: int
    rtf: float
    chunk_p50_ms: float
    chunk_p99_ms: float
    algorithmic_latency_ms: float
    first_frame_latency_ms: float
    peak_rss_mb: float
    cosine_mean: float
    cosine_worst: float
    per_vs_full: float | None
    fill_edges: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TimedRunner:
    """A runner that records the wall-clock time of each window it runs."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner
        self.input_samples = runner.input_samples
        self.min_samples, self.max_samples = getattr(runner, "min_samples", None), getattr(runner, "max_samples", None)
        self.window_ms: list[float] = []

    def run(self, wav: np.ndarray) -> dict[str, np.ndarray]:
        start = time.perf_counter_ns()
        out = self.runner.run(wav)
        self.window_ms.append((time.perf_counter_ns() - start) / 1e6)
        return out


def measure_stream(runner: Any, geometry: StreamGeometry, wav: np.ndarray,
                   reference: dict[str, np.ndarray], shift_start: bool = False,
                   fill_edges: bool = False) -> dict[str, Any]:
    """Stream ``wav`` through ``runner`` once and measure it: :func:`stream_timed`, then :func:`stream_parity`.

    ``reference``: the full-utterance outputs, ``(frames, dim)`` per name; ``shift_start`` (a chunked-attention
    model's) and ``fill_edges``: see :class:`Stream`. Returns the numbers of :class:`StreamResult` that depend on
    the run.
    """
    numbers, emitted = stream_timed(runner, geometry, wav, shift_start, fill_edges)
    return {**numbers, **stream_parity(emitted, reference)}


def stream_timed(runner: Any, geometry: StreamGeometry, wav: np.ndarray,
                 shift_start: bool = False, fill_edges: bool = False) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Stream ``wav`` in 20 ms feeds (after one untimed warm-up window); the timing numbers and the emitted
    frames, ``(frames, dim)`` per output name. ``shift_start``, ``fill_edges``: see :class:`Stream`."""
    runner.run(np.zeros(geometry.window_samples, np.float32))  # one-off costs (allocation, kernel choice)
    timed = TimedRunner(runner)
    stream = Stream(timed, geometry, shift_start=shift_start, fill_edges=fill_edges)
    emitted: dict[str, list[np.ndarray]] = {}
    first_frame_ms = None
    for i in range(0, len(wav), FEED_SAMPLES):
        stream.accept_waveform(wav[i: i + FEED_SAMPLES])
        if first_frame_ms is None:
            first_frame_ms = _first_frame_ms(stream, timed, min(i + FEED_SAMPLES, len(wav)))
        _collect(emitted, stream.read())
    stream.input_finished()
    if first_frame_ms is None:
        first_frame_ms = _first_frame_ms(stream, timed, len(wav))
    _collect(emitted, stream.read())
    compute = np.array(timed.window_ms)
    numbers = {"windows": len(compute), "frames": stream.emitted,
               "rtf": float(compute.sum() / (1000.0 * len(wav) / SAMPLE_RATE)),
               "chunk_p50_ms": float(np.percentile(compute, 50)), "chunk_p99_ms": float(np.percentile(compute, 99)),
               "first_frame_latency_ms": first_frame_ms}
    return numbers, {name: np.concatenate(parts) for name, parts in emitted.items()}


def stream_parity(emitted: dict[str, np.ndarray], reference: dict[str, np.ndarray]) -> dict[str, float | None]:
    """The cosine of every streamed frame against the full-utterance one (mean and worst, over every output),
    and the streamed-vs-full PER of a ``logits`` output (``None`` without one)."""
    cosines = np.concatenate([frame_cosines(emitted[name], reference[name]) for name in reference])
    per = ctc_per(emitted[LOGITS], reference[LOGITS]) if LOGITS in reference else None
    return {"cosine_mean": float(cosines.mean()), "cosine_worst": float(cosines.min()), "per_vs_full": per}


def ctc_per(streamed: np.ndarray, full: np.ndarray) -> float | None:
    """Phoneme error rate of the greedy CTC decoding of ``streamed`` logits against that of ``full`` (the full
    utterance's decoding is the reference transcript, so no labels are needed); ``None`` when that is empty.
    Class ids stand for the tokens: the rate is the same whatever they are called."""
    from fitedge.bench.eval.ctc import greedy_ctc
    from fitedge.bench.eval.edit_distance import edit_distance

    ids = [str(i) for i in range(full.shape[-1])]
    reference, hypothesis = greedy_ctc(full, ids), greedy_ctc(streamed, ids)
    return edit_distance(reference, hypothesis) / len(reference) if reference else None


def _first_frame_ms(stream: Stream, timed: TimedRunner, arrived: int) -> float | None:
    """Once frame 0 is out: when its last needed sample arrived, plus the first window's compute."""
    if stream.emitted == 0:
        return None
    return 1000.0 * arrived / SAMPLE_RATE + timed.window_ms[0]


def _collect(into: dict[str, list[np.ndarray]], frames: dict[str, np.ndarray]) -> None:
    for name, value in frames.items():
        into.setdefault(name, []).append(value)


def frame_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine of each pair of frames (rows); 1 where both are zero."""
    if a.shape != b.shape:
        raise ConfigError(f"streamed frames {a.shape} and full-utterance frames {b.shape} differ in shape")
    a, b = a.astype(np.float64), b.astype(np.float64)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.where(norms > 0, (a * b).sum(1) / np.where(norms > 0, norms, 1.0), 1.0)


def peak_rss_reset() -> None:
    """Start a new peak-RSS measurement (Linux: writing 5 to clear_refs resets VmHWM)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # kernels without it: VmHWM stays the process's peak so far, still an upper bound


def peak_rss_mb() -> float:
    """This process's peak resident memory since :func:`peak_rss_reset` (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def stream_targets(source: str | Path, threads: int | None) -> tuple[list[StreamTarget], Any, dict[str, Any]]:
    """Eager plus every artifact of a bundle folder (or eager alone for a model source).

    Returns the targets, the eager reference runner and the model config.
    """
    from fitedge.edge import runtime
    from fitedge.edge.bundle import manifest as mf

    folder = Path(source)
    if not (folder / mf.MANIFEST_FILE).is_file():
        reference = runtime.load(str(source), threads=threads)
        config = reference.module.encoder.config.to_dict()
        return [StreamTarget(EAGER, EAGER, "fp32", lambda: reference, None)], reference, config
    manifest = mf.Manifest.read(folder)
    reference = bundle_reference(folder, manifest, threads)
    targets = [StreamTarget(EAGER, EAGER, "fp32", lambda: reference, None)]
    for entry in manifest.artifacts:
        path = folder / entry.file
        targets.append(StreamTarget(entry.file, entry.runtime, entry.precision,
                                    lambda path=path: runtime.load(path, threads=threads),
                                    manifest.audio.input_samples if entry.static else None))
    return targets, reference, manifest.model.config


def bundle_reference(folder: Path, manifest: Any, threads: int | None) -> Any:
    """The bundle's model in eager PyTorch (float32), returning what its artifacts return: the reference."""
    from fitedge.bench.host.targets import eager_outputs, eager_source
    from fitedge.distill.checkpoints.source import load_encoder
    from fitedge.distill.models.deployable import OutputSpec
    from fitedge.edge import runtime

    origin = eager_source(manifest.model)
    if origin is None:
        raise ConfigError(f"{folder}: the manifest's model {manifest.model.source} is not here to run eagerly")
    encoder = load_encoder(origin, seed=manifest.model.extra.get("seed") or 0)
    head = bundle_head(folder, manifest)
    outputs = OutputSpec.parse(eager_outputs(manifest), encoder.config.layers)
    reference = runtime.load(encoder, threads=threads, outputs=replace(outputs, logits=head is not None), head=head)
    if reference.output_names != manifest.output_names():
        raise ConfigError(f"{folder}: eager PyTorch cannot give the bundle's outputs {manifest.output_names()}")
    return reference


def bundle_head(folder: Path, manifest: Any) -> Any:
    """The CTC head a bundle was exported with (``None`` without one), checked against the manifest's sha256."""
    from fitedge.distill.models.ctc_head import load_ctc_head
    from fitedge.edge.bundle.manifest import sha256_file

    head = manifest.extra.get("head")
    if head is None:
        return None
    if "file" not in head:
        raise ConfigError(f"{folder}: the bundle does not hold its CTC head's weights (exported before heads were "
                          "kept); export it again to run it eagerly")
    path = folder / head["file"]
    if not path.is_file() or sha256_file(path) != head["probe_sha256"]:
        raise ConfigError(f"{path}: missing, or its sha256 differs from the manifest's")
    return load_ctc_head(path)


def stream_report(source: str | Path, wav: np.ndarray, settings: Sequence[StreamSettings], threads: int | None = None,
                  progress: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """Measure every target of ``source`` at every setting it can serve; the report document (JSON-ready)."""
    from fitedge.host import describe_cpu

    targets, reference, config = stream_targets(source, threads)
    hop, receptive = model_hop_and_receptive(config)
    full = {name: value[0] for name, value in reference.run(wav).items()}
    geometries = [(s, s.geometry(hop, receptive)) for s in settings]
    results, skipped = [], []
    for target in targets:
        served = [(s, g) for s, g in geometries if target.static_samples in (None, g.window_samples)]
        if not served:
            skipped.append({"artifact": target.name, "reason": f"static window of {target.static_samples} samples "
                                                              "matches none of the settings"})
            continue
        peak_rss_reset()
        runner = target.load()
        for setting, geometry in served:
            progress(f"{target.name}: {geometry.describe()}")
            numbers = measure_stream(runner, geometry, wav, full, is_chunked(config), setting.fill_edges)
            results.append(StreamResult(
                artifact=target.name, runtime=target.runtime, precision=target.precision, **asdict(setting),
                geometry=geometry.to_manifest(), algorithmic_latency_ms=geometry.algorithmic_latency_ms,
                peak_rss_mb=peak_rss_mb(), **numbers))
    return {"cpu": describe_cpu(), "threads": threads, "audio_seconds": len(wav) / SAMPLE_RATE,
            "frame_hop_ms": 1000.0 * hop / SAMPLE_RATE, "receptive_field_samples": receptive,
            "results": [r.to_dict() for r in results], "skipped": skipped}


def format_table(doc: dict[str, Any]) -> str:
    """The report as a text table for people."""
    cpu = doc["cpu"]
    lines = [f"on {cpu['class']} ({cpu['model']}), {doc['audio_seconds']:.2f} s of audio, threads "
             f"{doc['threads'] or 'runtime default'}; first-frame latency = audio clock + measured compute"
             + ("; windows filled with heard audio (--fill-edges)" if any(r.get("fill_edges") for r in doc["results"])
                else ""),
             f"{'artifact':26s} {'chunk':>6s} {'left':>6s} {'right':>6s} {'RTF':>7s} {'p50 ms':>8s} {'p99 ms':>8s} "
             f"{'algo ms':>8s} {'first ms':>9s} {'RSS MB':>7s} {'cos mean':>9s} {'cos worst':>9s} {'PER':>6s}"]
    for r in doc["results"]:
        lines.append(f"{r['artifact']:26s} {r['chunk_ms']:6g} {r['left_ms']:6g} {r['right_ms']:6g} {r['rtf']:7.3f} "
                     f"{r['chunk_p50_ms']:8.2f} {r['chunk_p99_ms']:8.2f} {r['algorithmic_latency_ms']:8.0f} "
                     f"{r['first_frame_latency_ms']:9.1f} {r['peak_rss_mb']:7.0f} {r['cosine_mean']:9.5f} "
                     f"{r['cosine_worst']:9.5f} {_per(r.get('per_vs_full')):>6s}")
    lines += [f"{s.get('status', 'skipped')} {s['artifact']}: {s['reason']}" for s in doc["skipped"]]
    return "\n".join(lines)


def _per(value: float | None) -> str:
    """Streamed-vs-full PER in percent; ``-`` without a CTC head."""
    return "-" if value is None else f"{100 * value:.1f}%"
