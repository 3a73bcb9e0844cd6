"""``fitedge bench run --stream``: streaming numbers of every artifact at every chunk setting, each in its own process.

A cell is one artifact (or the bundle's model in eager PyTorch) at one chunk/context setting. It streams one
utterance in 20 ms feeds with :func:`fitedge.bench.host.streaming.stream_timed` and scores it with
:func:`~fitedge.bench.host.streaming.stream_parity`, the same code as ``fitedge stream``, but in a fresh process
(:mod:`fitedge.bench.host.isolate`), so that its peak RSS is its own runtime's and a crash or hang is a row, not
the end of the run.

The reference of the parity is the bundle's model in float32 eager PyTorch on the whole utterance, computed once
per bundle here and handed to the cells in a ``.npz`` file with the audio.

Static artifacts (``.pte``, ``.tflite``, and ``.onnx`` unless exported ``--dynamic``) take exactly one window, so a
model TARGET is exported once per setting (``BundleExporter(stream=...)``, reused from ``--bundles``); a bundle
TARGET serves the settings each of its artifacts can take, and without ``--chunk-ms`` the one in its manifest.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from fitedge.bench.host.isolate import run_isolated
from fitedge.bench.host.matrix import mib
from fitedge.bench.host.streaming import settings_grid
from fitedge.bench.host.targets import EAGER, Artifact, bundle_artifacts
from fitedge.edge.backends import BACKENDS
from fitedge.edge.bundle import manifest as mf
from fitedge.edge.stream.geometry import SAMPLE_RATE, StreamGeometry, is_chunked, model_hop_and_receptive
from fitedge.edge.stream.source import StreamSettings, bundle_default_ms
from fitedge.errors import ConfigError

# The acceptance settings of issue 21: 320 and 640 ms chunks; 1280 ms left and 320 ms right context kept the
# mean frame cosine of fp32 .onnx at 0.994-0.995 against the full utterance (fithubert, espeak-ng speech).
DEFAULT_CHUNKS_MS, DEFAULT_LEFT_MS, DEFAULT_RIGHT_MS = (320.0, 640.0), 1280.0, 320.0
DEFAULT_SETTINGS = tuple(settings_grid(DEFAULT_CHUNKS_MS, (DEFAULT_LEFT_MS,), (DEFAULT_RIGHT_MS,)))
NUMBERS = ("windows", "frames", "rtf", "chunk_p50_ms", "chunk_p99_ms", "first_frame_latency_ms", "peak_rss_mb",
           "baseline_rss_mb", "cosine_mean", "cosine_worst", "per_vs_full")

StreamExporter = Callable[[str, StreamSettings], Path]
"""Exports a model source for one streaming setting and returns the bundle folder."""


@dataclass(frozen=True)
class StreamBenchSettings:
    """How the streaming cells run.

    Attributes:
        settings: chunk/context settings; ``None``: a bundle's own (its manifest), :data:`DEFAULT_SETTINGS` for a
            model.
        threads: CPU threads of every runtime.
        timeout_s: wall-clock limit of one cell's process.
        fill_edges: windows hold only heard audio (:class:`~fitedge.edge.stream.stream.Stream`).
    """

    settings: tuple[StreamSettings, ...] | None = None
    threads: int = 2
    timeout_s: float = 300.0
    fill_edges: bool = False


def stream_bundles(targets: list[str], settings: tuple[StreamSettings, ...] | None,
                   export: StreamExporter | None) -> Iterator[tuple[Path, str | None, tuple[StreamSettings, ...]]]:
    """``(bundle folder, the one artifact file asked for or None, settings)`` per target, exporting models."""
    for target in targets:
        path = Path(target)
        if path.is_dir():
            yield path, None, settings or (StreamSettings(*bundle_default_ms(path)),)
        elif BACKENDS.find_file(path) is not None:
            if not path.is_file():
                raise ConfigError(f"{target}: no such artifact file")
            yield path.parent, path.name, settings or (StreamSettings(*bundle_default_ms(path.parent)),)
        elif export is None:
            raise ConfigError(f"{target}: --stream --no-export takes bundle folders or artifact files; a model is "
                              "exported once per chunk setting")
        else:
            for setting in settings or DEFAULT_SETTINGS:
                yield export(target, setting), None, (setting,)


def full_reference(folder: Path, manifest: mf.Manifest, wav: np.ndarray, threads: int) -> dict[str, np.ndarray]:
    """The bundle's model in float32 eager PyTorch on the whole utterance: ``(frames, dim)`` per output."""
    from fitedge.bench.host.streaming import bundle_reference

    return {name: value[0] for name, value in bundle_reference(folder, manifest, threads).run(wav).items()}


def base_row(artifact: Artifact, folder: Path, geometry: StreamGeometry, config: StreamBenchSettings,
             seconds: float) -> dict:
    """A STREAM record's identity and settings (see ``results.schema.json``), before any measurement."""
    ms = geometry.hop_ms
    return {"model": artifact.model, "artifact": artifact.label, "runtime": artifact.runtime,
            "precision": artifact.precision, "bundle": str(folder), "device": "host", "status": "skipped",
            "error": None, "threads": config.threads, "audio_seconds": seconds, "chunk_ms": geometry.chunk * ms,
            "left_ms": geometry.left * ms, "right_ms": geometry.right * ms, "window_samples": geometry.window_samples,
            "algorithmic_latency_ms": geometry.algorithmic_latency_ms, "fill_edges": config.fill_edges,
            **dict.fromkeys(NUMBERS)}


def measured_row(row: dict, result: dict) -> dict:
    """A row filled from its child's result (or its error)."""
    memory = {"peak_rss_mb": mib(result.get("peak_rss_kb")), "baseline_rss_mb": mib(result.get("baseline_rss_kb"))}
    if result.get("error"):
        return {**row, "status": "failed", "error": result["error"], **memory}
    return {**row, "status": "ok", **{k: result[k] for k in NUMBERS if k in result}, **memory}


def run_stream_bench(targets: list[str], wav: np.ndarray, config: StreamBenchSettings,
                     export: StreamExporter | None, on_row: Callable[[dict], None] | None = None) -> list[dict]:
    """STREAM records of every artifact (and eager) of every target at every setting it can serve, in order."""
    rows = []
    seconds = len(wav) / SAMPLE_RATE
    no_eager = BACKENDS.for_runtime(EAGER).runtime_missing()
    bundles = list(stream_bundles(targets, config.settings, export))
    ambiguous = folders_sharing_a_model(bundles)
    with tempfile.TemporaryDirectory(prefix="fitedge-stream-") as tmp:
        for index, (folder, only, settings) in enumerate(bundles):
            manifest = mf.Manifest.read(folder)
            hop, receptive = model_hop_and_receptive(manifest.model.config)
            geometries = [s.geometry(hop, receptive) for s in settings]
            artifacts = [replace(a, bundle=str(folder)) if folder in ambiguous else a
                         for a in bundle_artifacts(folder) if only in (None, a.name)]
            data = Path(tmp, f"{index}.npz")
            if not no_eager:
                reference = full_reference(folder, manifest, wav, config.threads)
                np.savez(data, wav=wav, **{f"reference:{k}": v for k, v in reference.items()})
            for artifact in artifacts:
                for geometry in geometries:
                    row = base_row(artifact, folder, geometry, config, seconds)
                    problem = _problem(artifact, geometry, no_eager)
                    if problem:
                        row["error"] = problem
                    else:
                        row = measured_row(row, run_isolated(_spec(artifact, folder, geometry, data, config),
                                                             config.timeout_s))
                    rows.append(row)
                    if on_row is not None:
                        on_row(row)
    return rows


def folders_sharing_a_model(bundles: list[tuple[Path, str | None, tuple[StreamSettings, ...]]]) -> set[Path]:
    """The bundle folders whose model name another folder also streams at one of the same settings (two students
    whose checkpoints are both called ``final``, say): their rows are labelled with the folder."""
    folders: dict[tuple[str, StreamSettings], set[Path]] = defaultdict(set)
    for folder, _, settings in bundles:
        model = mf.Manifest.read(folder).model.name
        for setting in settings:
            folders[model, setting].add(folder)
    return {folder for shared in folders.values() if len(shared) > 1 for folder in shared}


def _problem(artifact: Artifact, geometry: StreamGeometry, no_eager: str | None) -> str | None:
    """Why this cell cannot run here: no reference, no runtime, or a window the artifact cannot take."""
    if no_eager:
        return f"no float32 eager reference for the parity: {no_eager}"
    missing = BACKENDS.for_runtime(artifact.runtime).runtime_missing()
    if missing:
        return missing
    problem = artifact.length_problem(geometry.window_samples)
    return f"{problem}; this setting's window is {geometry.window_samples}" if problem else None


def _spec(artifact: Artifact, folder: Path, geometry: StreamGeometry, data: Path, config: StreamBenchSettings) -> dict:
    """What the child process needs (see :func:`run_stream_cell`)."""
    shape = {k: v for k, v in geometry.to_dict().items() if k != "window_samples"}
    return {"kind": "stream", "runtime": artifact.runtime, "threads": config.threads, "bundle": str(folder),
            "path": str(artifact.path) if artifact.path else None, "geometry": shape, "data": str(data),
            "fill_edges": config.fill_edges}


def run_stream_cell(spec: dict, progress: Path) -> dict:
    """The child side: load the runner, stream the utterance, take the peak RSS, then score the frames.

    The peak RSS is read before the parity, whose full-utterance frames are the parent's, not the runtime's.
    """
    from fitedge.bench.host.streaming import stream_parity, stream_timed
    from fitedge.bench.host.worker import import_runtime, note_phase, status_kb

    with np.load(spec["data"]) as data:
        wav = data["wav"]
        reference = {k.removeprefix("reference:"): data[k] for k in data.files if k.startswith("reference:")}
    geometry = StreamGeometry(**spec["geometry"])
    threads = int(spec["threads"])
    import_runtime(spec["runtime"])
    baseline_kb = status_kb("VmRSS")
    note_phase(progress, "load", baseline_kb)
    folder = Path(spec["bundle"])
    manifest = mf.Manifest.read(folder)
    if spec["runtime"] == EAGER:
        from fitedge.bench.host.streaming import bundle_reference

        runner = bundle_reference(folder, manifest, threads)
    else:
        from fitedge.edge.runtime import load

        runner = load(spec["path"], threads=threads)
    note_phase(progress, "stream", baseline_kb)
    # A chunked-attention model's first windows start at the audio's first sample, as fitedge stream does.
    numbers, emitted = stream_timed(runner, geometry, wav, is_chunked(manifest.model.config), spec["fill_edges"])
    peak_kb = status_kb("VmHWM")
    return {**numbers, **stream_parity(emitted, reference), "baseline_rss_kb": baseline_kb, "peak_rss_kb": peak_kb}


def stream_table_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """A ``--stream`` results document in the shape of ``fitedge stream --json`` (for its table and plot): ok rows
    as results, the rest as one ``skipped``/``failed`` line each."""
    rows = doc["streams"]
    return {"cpu": doc["environment"]["cpu"], "threads": doc["settings"]["threads"][0],
            "audio_seconds": doc["settings"]["seconds"][0], "results": [r for r in rows if r["status"] == "ok"],
            "skipped": [{"artifact": f"{r['artifact']} ({r['chunk_ms']:g} ms chunk)", "reason": r["error"],
                         "status": r["status"]} for r in rows if r["status"] != "ok"]}


def stream_settings(chunks_ms: tuple[float, ...] | None, lefts_ms: tuple[float, ...] | None,
                    rights_ms: tuple[float, ...] | None) -> tuple[StreamSettings, ...] | None:
    """The grid of the settings given, the defaults filling the rest; ``None`` when none is given (each bundle
    then serves its own)."""
    if chunks_ms is None and lefts_ms is None and rights_ms is None:
        return None
    return tuple(settings_grid(chunks_ms or DEFAULT_CHUNKS_MS, lefts_ms or (DEFAULT_LEFT_MS,),
                               rights_ms or (DEFAULT_RIGHT_MS,)))
