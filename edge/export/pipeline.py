"""``export_bundle``: model in, verified bundle out; the step sequence behind ``fitedge export``.

Steps: load the model and wrap it (:mod:`fitedge.distill.models.deployable`); take calibration and held-out
speech; compute the golden outputs in eager PyTorch; then per target and precision lower, load the artifact in its real
runtime, check parity (float: against eager on the golden input; int8: against float on held-out windows),
time it; finally write golden files, manifest and report, and rename the folder into place.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from fitedge.distill.models.deployable import on_grid
from fitedge.edge import runtime
from fitedge.edge.bundle import folder as bd
from fitedge.edge.bundle import manifest as mf
from fitedge.edge.export.model import load_export_model
from fitedge.edge.export.options import ExportOptions
from fitedge.edge.export.plan import ArtifactJob, build_artifact, plan_jobs
from fitedge.edge.export.verify import check_fp32, check_int8
from fitedge.host import describe_cpu
from fitedge.parity import Parity, compare_outputs, worst

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


def export_bundle(source: str | Path, out: str | Path, options: ExportOptions,
                  progress: Progress | None = None, gate: Any = None) -> dict[str, Any]:
    """Export ``source`` (preset, checkpoint folder, importable checkpoint) into the bundle folder ``out``.

    ``gate``: anything with ``apply(bundle_dir, doc, reference, threads, progress)`` that judges the finished
    bundle before it is renamed into place, raising to refuse it: ``--gate-per``'s
    :class:`fitedge.bench.eval.gate.PerGate`, or ``None``.
    """
    from fitedge.quantize.calibration import load_calibration

    say = progress or log.info
    out = Path(out)
    bd.check_destination(out, options.force)  # fail before any heavy work
    model = load_export_model(source, options)
    if options.dynamic is not None:
        # Put the golden/static length on the dynamic artifacts' length grid, so every artifact sees the same audio.
        samples = on_grid(options.input_samples, model.length_grid)
        options = dataclasses.replace(options, seconds=samples / model.config.sample_rate)
    say(f"model {model.name}: {model.parameters:,} parameters, {'trained' if model.trained else 'UNTRAINED'}")
    audio = load_calibration(options.calib, options.input_samples, options.calib_windows)
    golden_input = audio.held_out[0][None, :]
    eager = runtime.load(model.encoder, threads=options.threads, outputs=model.spec, head=model.head)
    golden = eager.run(golden_input)
    held_out_reference = [eager.run(w) for w in audio.held_out]
    doc = mf.new_manifest(model.manifest_section(), mf.audio_section(
        model.config.sample_rate, options.input_samples, options.dynamic, model.normalization, model.length_grid),
        model.outputs_section(golden), model.time_reduction_factor, options.min_cosine)
    doc["calibration"] = audio.describe() if "int8" in options.precisions else None
    with bd.BundleWriter(out, options.force) as tmp:
        for job in plan_jobs(model, options):
            say(f"{job.file}: lowering ({job.runtime} {job.precision})")
            entry = build_artifact(job, model, audio.calibration, tmp, options)
            runner = runtime.load(tmp / job.file, threads=options.threads, output_names=model.spec.names,
                                  **job.io_bounds(options, model.length_grid))
            entry["parity"] = _check_parity(job, runner, golden_input, golden, audio.held_out, held_out_reference,
                                            options)
            entry["latency_ms"] = median_latency_ms(runner, golden_input, options.timing_runs)
            doc["artifacts"].append(entry)
            say(f"{job.file}: {Parity(**_parity_numbers(entry['parity'])).describe()}, {entry['latency_ms']} ms")
        _rank_latencies(doc["artifacts"])
        doc["timing"] = {"threads": options.threads, "runs": options.timing_runs}
        doc["golden"] = bd.write_golden(tmp, golden_input, golden)
        mf.write_manifest(tmp, doc)
        bd.write_report(tmp, doc)
        if gate is not None:  # a refusal raises here, so no bundle is left
            gate.apply(tmp, doc, reference=eager, threads=options.threads, progress=say)
    if options.android is not None:
        say(f"copying to {bd.copy_to_android(out, options.android)}")
    return doc


def _check_parity(job: ArtifactJob, runner: runtime.Runner, golden_input: np.ndarray,
                  golden: dict[str, np.ndarray], held_out: list[np.ndarray],
                  held_out_reference: list[dict[str, np.ndarray]], options: ExportOptions) -> dict[str, Any]:
    if job.precision == "fp32":
        result = compare_outputs(golden, runner.run(golden_input))
        check_fp32(job.file, result, mf.FP32_THRESHOLDS["min_cosine"], mf.FP32_THRESHOLDS["max_abs_diff"])
        return {**result.to_dict(), "against": "fp32 eager", "audio": "golden", "verified_on": describe_cpu()}
    result = worst([compare_outputs(ref, runner.run(w)) for w, ref in zip(held_out, held_out_reference)])
    passed = check_int8(job.file, result, options.min_cosine, options.allow_degraded)
    return {**result.to_dict(), "against": "fp32 eager", "audio": f"held-out ({len(held_out)} windows)",
            "passed": passed, "verified_on": describe_cpu()}


def _parity_numbers(entry: dict[str, Any]) -> dict[str, float]:
    return {k: entry[k] for k in ("cosine", "max_abs_diff", "snr_db")}


def median_latency_ms(runner: runtime.Runner, wav: np.ndarray, runs: int) -> float | None:
    """Median wall time of ``runs`` runs after one warm-up (``None`` when ``runs`` is 0)."""
    if runs <= 0:
        return None
    runner.run(wav)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        runner.run(wav)
        times.append(time.perf_counter() - start)
    return round(1000 * float(np.median(times)), 3)


def _rank_latencies(artifacts: list[dict[str, Any]]) -> None:
    """Each artifact's latency as a multiple of the fastest of the same precision."""
    for precision in {a["precision"] for a in artifacts}:
        same = [a for a in artifacts if a["precision"] == precision and a.get("latency_ms")]
        if same:
            fastest = min(a["latency_ms"] for a in same)
            for a in same:
                a["latency_vs_fastest"] = round(a["latency_ms"] / fastest, 3)

