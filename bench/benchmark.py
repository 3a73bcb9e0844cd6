"""``run_benchmark``: targets in, one validated ``fitedge.bench`` results document out.

The steps, in order: resolve targets to artifacts (exporting models on the fly), add the reference model's
float32 eager run, measure this machine's GEMM peak, time the matrix (each cell in its own process), run the
same on an Android device when asked, then derive efficiency, reference ratios and scaling.

``stream_benchmark`` is the ``--stream`` counterpart: a row per artifact x chunk setting in ``streams``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fitedge.audio import SAMPLE_RATE
from fitedge.bench.host import compare, scaling
from fitedge.bench.host.efficiency import add_efficiency, macs_note
from fitedge.bench.host.environment import describe_host, load_average
from fitedge.bench.host.matrix import MatrixSettings, run_matrix
from fitedge.bench.host.peak import best_peak, measure_peak
from fitedge.bench.host.targets import EAGER, Artifact, Exporter, model_artifact, model_name, resolve_targets
from fitedge.bench.report.results import new_document, validate_results

if TYPE_CHECKING:
    import numpy as np

    from fitedge.bench.device.android import Adb
    from fitedge.bench.host.streambench import StreamBenchSettings, StreamExporter

log = logging.getLogger(__name__)

DEFAULT_TARGETS = ("fithubert", "hubert-base")


@dataclass(frozen=True)
class BenchConfig:
    """One benchmark run.

    Attributes:
        targets: bundles, artifact files or model sources (exported on the fly).
        reference: the model whose float32 eager run is 100% in the comparisons; ``None`` picks
            ``hubert-base`` when a FitHuBERT-like model is measured, else no comparison.
        matrix: lengths, threads, warm-up, iterations, timeout.
        device: ``host`` or ``android[:SERIAL]``.
        adb: the adb binary for Android devices.
        device_results: a contract-3 results file pulled from the app earlier, merged as a device column.
    """

    targets: tuple[str, ...] = DEFAULT_TARGETS
    reference: str | None = None
    matrix: MatrixSettings = field(default_factory=MatrixSettings)
    device: str = "host"
    adb: str = "adb"
    device_results: Path | None = None


def choose_reference(artifacts: list[Artifact], requested: str | None) -> str | None:
    """The reference model: as requested, else hubert-base when a FitHuBERT-like model is measured."""
    if requested is not None:
        return requested
    students = [a for a in artifacts if compare.is_fithubert_like(a.config, a.model)]
    return compare.DEFAULT_REFERENCE if students else None


def with_reference(artifacts: list[Artifact], reference: str | None) -> tuple[list[Artifact], str | None]:
    """``artifacts`` plus the reference's eager run unless a target provides it, and the reference's model name."""
    if reference is None:
        return artifacts, None
    name = model_name(reference)
    if any(a.model == name and a.runtime == EAGER for a in artifacts):
        return artifacts, name
    return artifacts + [model_artifact(reference)], name


@dataclass
class DeviceInputs:
    """What the device column comes from, checked before any host measurement so that a missing phone or a
    bad results file fails in seconds, not after the whole matrix."""

    adb: Adb | None = None
    results_file: dict | None = None


def open_devices(config: BenchConfig) -> DeviceInputs:
    inputs = DeviceInputs()
    if config.device != "host":
        from fitedge.bench.device.android import connect

        inputs.adb = connect(config.adb, config.device)
    if config.device_results is not None:
        from fitedge.bench.device.results import read_device_results

        inputs.results_file = read_device_results(config.device_results)
    return inputs


def measure_devices(inputs: DeviceInputs, artifacts: list[Artifact],
                    settings: MatrixSettings) -> tuple[list[dict], list[dict]]:
    """Device entries and RUN records: from the phone over adb, and from the results file the user gave."""
    measured = []
    if inputs.adb is not None:
        from fitedge.bench.device.android import run_on_android

        measured.append(run_on_android(inputs.adb, artifacts, settings))
    if inputs.results_file is not None:
        from fitedge.bench.device.results import device_runs

        measured.append(device_runs(inputs.results_file, None, artifacts))
    return [device for device, _ in measured], [run for _, runs in measured for run in runs]


def run_benchmark(config: BenchConfig, export: Exporter | None, on_cell: Callable[[dict], None] | None = None) -> dict:
    """Benchmark every target as ``config`` says and return the validated results document.

    ``export`` turns a model target into a bundle folder; ``None`` measures model targets in eager PyTorch only.
    """
    load_at_start = load_average()
    devices_in = open_devices(config)
    artifacts = resolve_targets(list(config.targets), export)
    artifacts, reference = with_reference(artifacts, choose_reference(artifacts, config.reference))
    settings = config.matrix
    log.info("measuring this machine's GEMM peak at %s threads", settings.threads)
    peaks = {t: measure_peak(t) for t in settings.threads}
    runs = run_matrix(artifacts, settings, on_cell)
    # Measured again after the matrix, keeping the better: a shared machine's other work only lowers a peak.
    peaks = {t: best_peak(p, measure_peak(t)) for t, p in peaks.items()}
    devices, device_runs = measure_devices(devices_in, artifacts, settings)
    runs += device_runs
    configs = {a.model: a.config for a in artifacts}
    runs = [add_efficiency(r, configs.get(r["model"]), peaks) for r in runs]
    comparisons = compare.reference_comparisons(runs, reference) if reference else []
    doc = new_document(
        environment=describe_host(load_at_start),
        peaks=[p.to_dict() for p in peaks.values()],
        settings={"seconds": list(settings.seconds), "threads": list(settings.threads),
                  "warmup": settings.warmup, "iterations": settings.iters, "timeout_s": settings.timeout_s,
                  "processes": settings.processes, "reference": reference},
        devices=devices, runs=runs, comparisons=comparisons,
        headline=compare.headline(comparisons),
        scaling={"length": scaling.length_scaling(runs), "threads": scaling.thread_scaling(runs),
                 "attention_crossover_s": {m: scaling.attention_crossover_s(c) for m, c in configs.items() if c}},
        notes=[n for n in (macs_note(),) if n],
    )
    doc["advice"] = compare.class_advice(runs, doc["environment"]["cpu"]["class"])
    return validate_results(doc)


def stream_benchmark(targets: list[str], wav: np.ndarray, config: StreamBenchSettings,
                     export: StreamExporter | None, on_row: Callable[[dict], None] | None = None) -> dict:
    """``fitedge bench run --stream``: the validated results document whose ``streams`` hold a row per artifact x
    chunk setting (see :mod:`fitedge.bench.host.streambench`), without a latency matrix."""
    from fitedge.bench.host.streambench import run_stream_bench

    load_at_start = load_average()
    rows = run_stream_bench(targets, wav, config, export, on_row)
    return validate_results(new_document(
        environment=describe_host(load_at_start), peaks=[],
        settings={"seconds": [len(wav) / SAMPLE_RATE], "threads": [config.threads], "warmup": 1, "iterations": 1,
                  "timeout_s": config.timeout_s, "processes": 1, "reference": None},
        devices=[], runs=[], comparisons=[], headline=None,
        scaling={"length": [], "threads": [], "attention_crossover_s": {}},
        notes=["--stream: each artifact x setting streamed the utterance once (one untimed warm-up window) in one "
               "fresh process; parity against the bundle's model in float32 eager PyTorch on the whole utterance"],
        streams=rows))
