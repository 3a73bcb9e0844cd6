"""``export_bundle``: model in, verified bundle out; the step sequence behind ``fitedge export``.

Steps: load the model and wrap it (:mod:`fitedge.distill.models.deployable`); take calibration and held-out
speech; compute the golden outputs in eager PyTorch; then per target and precision lower, load the artifact in its real
runtime, check parity (float: against eager on the golden input; int8: against float on held-out windows),
time it; finally write golden files, manifest and report, and rename the folder into place.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fitedge.distill.models.deployable import on_grid
from fitedge.edge import runtime
from fitedge.edge.bundle import folder as bd
from fitedge.edge.bundle import manifest as mf
from fitedge.edge.export.model import ExportModel, load_export_model
from fitedge.edge.export.options import ExportOptions
from fitedge.edge.export.plan import ArtifactJob, build_artifact, plan_jobs
from fitedge.edge.export.screening import NOT_SCREENED, ONNXRUNTIME, measure_blocks_onnx, screening_recipe
from fitedge.edge.export.verify import check_fp32, check_int8
from fitedge.edge.runtime.timing import side_by_side_ms, time_runner
from fitedge.host import describe_cpu
from fitedge.parity import Parity, compare_outputs, worst
from fitedge.quantize.calibration import CalibrationSet
from fitedge.quantize.policy import Int8Plan, plan_int8, prefer_run_time, sensitivity_table

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
AUTO_CALIBRATION_WINDOWS, AUTO_HELD_OUT_WINDOWS = 4, 2  # int8 auto's per-block sweep: about 1 min for fithubert
SIDE_BY_SIDE_ROUNDS = 9  # runs of each of two int8 candidates timed in turns


def export_bundle(source: str | Path, out: str | Path, options: ExportOptions,
                  progress: Progress | None = None, gate: Any = None) -> dict[str, Any]:
    """Export ``source`` (preset, checkpoint folder, importable checkpoint) into the bundle folder ``out``.

    Returns the manifest as written (its JSON). ``gate``: anything with ``apply(bundle_dir, manifest, reference,
    threads, progress, widen)`` that judges the finished bundle before it is renamed into place, raising to refuse
    it: ``--gate-per``'s :class:`fitedge.bench.eval.gate.PerGate`, or ``None``. It may call ``widen(file, why)``
    to have an int8 artifact rebuilt with one more block float (int8 auto only; ``False`` when it cannot).
    """
    from fitedge.quantize.calibration import load_calibration

    say = progress or log.info
    out = Path(out)
    bd.check_destination(out, options.force)  # fail before any heavy work
    options.require_installed()
    model = load_export_model(source, options)
    streaming = options.stream_geometry(model.config)
    if streaming is not None:  # the static input is one streaming window
        options = dataclasses.replace(options, seconds=streaming.window_samples / model.config.sample_rate)
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
    plan = _int8_plan(model, audio, options, say) if "int8" in options.precisions else None
    checked = Checked(golden_input, golden, audio.held_out, held_out_reference)
    built: dict[str, tuple[ArtifactJob, Int8Plan | None]] = {}  # artifact file -> its job and int8 plan

    def build(job: ArtifactJob, job_plan: Int8Plan | None) -> mf.ArtifactEntry:
        entry, runner, used = _build_checked(job, model, audio.calibration, tmp, options, job_plan, checked, say)
        built[job.file] = job, used
        entry["latency_ms"] = median_latency_ms(runner, golden_input, options.timing_runs)
        artifact = mf.ArtifactEntry.from_dict(entry)
        say(f"{job.file}: {artifact.parity.numbers.describe()}, {artifact.latency_ms} ms")
        return artifact

    def widen(file: str, why: str) -> bool:
        """``--gate-per`` refused ``file``: in int8 auto, rebuild it with the next most harmful block float."""
        job, used = built[file]
        wider = None if used is None else used.widen(f"{file} at {why}")
        if wider is None:
            return False
        say(f"{file}: {why}; keeping {wider.keep_float[-1]} float too")
        manifest.artifacts[[a.file for a in manifest.artifacts].index(file)] = build(job, wider)
        _rank_latencies(manifest.artifacts)
        manifest.write(tmp)
        bd.write_bundle_report(tmp, manifest)
        return True

    with bd.BundleWriter(out, options.force) as tmp:
        artifacts = [build(job, plan) for job in plan_jobs(model, options)]
        _rank_latencies(artifacts)
        manifest = mf.Manifest(
            model=mf.ModelInfo.from_dict(model.manifest_section()),
            audio=mf.AudioSpec.build(model.config.sample_rate, options.input_samples, options.dynamic,
                                     model.normalization, model.length_grid),
            outputs=[mf.OutputInfo.from_dict(o) for o in model.outputs_section(golden)],
            time_reduction_factor=model.time_reduction_factor,
            thresholds=mf.Thresholds.build(options.min_cosine),
            golden=bd.write_golden(tmp, golden_input, golden),
            calibration=audio.describe() if plan is not None else None,
            artifacts=artifacts,
            timing={"threads": options.threads, "runs": options.timing_runs},
            extra={} if plan is None else {"int8_policy": {**plan.to_dict(), "sensitivity": sensitivity_table(plan)}})
        if streaming is not None:
            manifest.extra["streaming"] = streaming.to_manifest()
        manifest.extra.update(model.write_head(tmp))  # --head: tokens.txt and the manifest's head section
        manifest.write(tmp)
        bd.write_bundle_report(tmp, manifest)
        if gate is not None:  # a refusal raises here, so no bundle is left
            gate.apply(tmp, manifest, reference=eager, threads=options.threads, progress=say, widen=widen)
    if options.android is not None:
        say(f"copying to {bd.copy_to_android(out, options.android)}")
    return manifest.to_dict()


@dataclass(frozen=True)
class Checked:
    """What parity is checked against: the golden input and eager outputs, and the held-out windows'."""

    golden_input: np.ndarray
    golden: dict[str, np.ndarray]
    held_out: list[np.ndarray]
    held_out_reference: list[dict[str, np.ndarray]]


def _int8_plan(model: ExportModel, audio: CalibrationSet, options: ExportOptions, say: Progress) -> Int8Plan:
    """The blocks int8 artifacts keep float: ``--keep-float``, none (``--int8 plain``), or measured (auto)."""
    recipe = screening_recipe()

    def measure() -> list:
        say(f"int8 auto: measuring each block's own int8 error ({model.name}; --int8 plain skips this)")
        # A screening, not the full `fitedge quantize sensitivity`: fewer windows, the layers as one block.
        calibration = audio.calibration[:AUTO_CALIBRATION_WINDOWS]
        held_out = audio.held_out[:AUTO_HELD_OUT_WINDOWS]
        if recipe == ONNXRUNTIME:
            return measure_blocks_onnx(model.deployable(), calibration, held_out, group_layers=True,
                                       threads=options.threads)
        from fitedge.quantize.sensitivity import measure_blocks

        return measure_blocks(model.deployable(), calibration, held_out, group_layers=True)

    if options.int8 == "auto" and not options.keep_float and recipe is None:
        plan = Int8Plan("auto", (), NOT_SCREENED)
    else:
        plan = plan_int8(options.int8, options.keep_float, measure)
    if plan.mode == "auto" and recipe == ONNXRUNTIME:
        # Not after "; ": the report reads what follows "; " as the blocks widened after lowering.
        plan = dataclasses.replace(plan, reason=f"{plan.reason}, screened with ONNX Runtime's int8 recipe "
                                                f"(executorch is not installed)")
    if plan.mode == "auto":
        say(f"int8 auto: {'keeping ' + ', '.join(plan.keep_float) + ' float' if plan.keep_float else 'plain int8'}"
            f" ({plan.reason})")
    return plan


def _build_checked(job: ArtifactJob, model: ExportModel, calibration: list[np.ndarray], folder: Path,
                   options: ExportOptions, plan: Int8Plan | None, checked: Checked,
                   say: Progress) -> tuple[dict[str, Any], runtime.Runner, Int8Plan | None]:
    """Lower ``job`` and check its parity; in auto int8, take more blocks out of int8 until it passes the floor.

    Returns the manifest entry, the loaded artifact and the int8 plan it was built with (``None``: fp32).

    Where the backend quantizes activations at run time (LiteRT's dynamic recipe), auto int8 also tries it with
    no block float: its activation ranges are each input's own, which is what the blocks the screening flagged
    lack under static ranges. It is kept when it passes and is clearly faster than the flagged blocks float,
    timed side by side (fithubert with its conv front end float: 98 ms static against 50 ms dynamic; with one
    conv float the two are within 10%, and then the float blocks stay).
    """
    if job.precision == "fp32":
        entry, runner = _lower(job, model, calibration, folder, options, (), say)
        result = compare_outputs(checked.golden, runner.run(checked.golden_input))
        check_fp32(job.file, result, mf.FP32_THRESHOLDS["min_cosine"], mf.FP32_THRESHOLDS["max_abs_diff"])
        entry["parity"] = {**result.to_dict(), "against": "fp32 eager", "audio": "golden",
                           "verified_on": describe_cpu()}
        return entry, runner, None
    assert plan is not None
    first_choice = plan.mode == "auto" and bool(plan.keep_float) and not plan.widened  # not after a refusal
    run_time = None
    if first_choice and job.backend.quantizes_at_run_time(options):
        run_time = _run_time_candidate(job, model, calibration, folder, options, plan, checked, say)
    chosen = _widened_to_floor(job, model, calibration, folder, options, plan, checked, say)
    if run_time is not None:
        chosen = _faster(run_time, chosen, folder / job.file, options, checked, say)
    return _int8_entry(job, chosen, checked, options), chosen.runner, chosen.plan


@dataclass(frozen=True)
class Candidate:
    """One lowered int8 artifact: its manifest entry so far, the loaded runner, its held-out parity and plan."""

    entry: dict[str, Any]
    runner: runtime.Runner
    parity: Parity
    plan: Int8Plan
    path: Path


def _widened_to_floor(job: ArtifactJob, model: ExportModel, calibration: list[np.ndarray], folder: Path,
                      options: ExportOptions, plan: Int8Plan, checked: Checked, say: Progress) -> Candidate:
    """``job`` with ``plan``'s blocks float, and in auto one more at a time while it misses ``--min-cosine``."""
    while True:
        entry, runner = _lower(job, model, calibration, folder, options, plan.keep_float, say)
        result = _held_out_parity(runner, checked)
        wider = None if result.cosine >= options.min_cosine else plan.widen(
            f"{job.file} at cosine {result.cosine:.6f} < {options.min_cosine}")
        if wider is None:
            return Candidate(entry, runner, result, plan, folder / job.file)
        say(f"{job.file}: {result.describe()}, below --min-cosine {options.min_cosine}; keeping "
            f"{wider.keep_float[-1]} float too")
        plan = wider


def _run_time_candidate(job: ArtifactJob, model: ExportModel, calibration: list[np.ndarray], folder: Path,
                        options: ExportOptions, plan: Int8Plan, checked: Checked, say: Progress) -> Candidate | None:
    """LiteRT's dynamic int8 with no block float, in a subfolder; ``None`` when it loses more than ``plan`` allows."""
    aside = folder / ".run-time-int8"
    aside.mkdir()
    entry, runner = _lower(job, model, calibration, aside, options, (), say)
    result = _held_out_parity(runner, checked)
    if result.cosine >= options.min_cosine and plan.tolerates(result.cosine):
        return Candidate(entry, runner, result, plan, aside / job.file)
    say(f"{job.file}: dynamic int8 with no block float: {result.describe()}; keeping the flagged blocks float")
    shutil.rmtree(aside)
    return None


def _faster(run_time: Candidate, with_float: Candidate, destination: Path, options: ExportOptions, checked: Checked,
            say: Progress) -> Candidate:
    """Dynamic int8 if the flagged blocks float missed the floor or it is clearly faster, else the float blocks.

    Both are timed in turns on the golden input; the kept one ends up at ``destination``.
    """
    run_time_ms, float_ms = side_by_side_ms([run_time.runner, with_float.runner], checked.golden_input,
                                            SIDE_BY_SIDE_ROUNDS)
    cosine = run_time.parity.cosine
    say(f"{destination.name}: dynamic int8 with no block float {run_time_ms:.1f} ms, with the flagged blocks float "
        f"{float_ms:.1f} ms (side by side)")
    if with_float.parity.cosine >= options.min_cosine and not prefer_run_time(run_time_ms, float_ms):
        shutil.rmtree(run_time.path.parent)
        return dataclasses.replace(with_float, plan=with_float.plan.kept_over_run_time(cosine, run_time_ms, float_ms))
    run_time.path.replace(destination)
    run_time.path.parent.rmdir()
    return dataclasses.replace(run_time, path=destination,
                               plan=run_time.plan.handled_at_run_time(cosine, run_time_ms, float_ms))


def _lower(job: ArtifactJob, model: ExportModel, calibration: list[np.ndarray], folder: Path, options: ExportOptions,
           keep_float: tuple[str, ...], say: Progress) -> tuple[dict[str, Any], runtime.Runner]:
    """The artifact of ``job`` with ``keep_float`` out of int8, written and loaded in its runtime."""
    floats = f", {len(keep_float)} block{'s' if len(keep_float) > 1 else ''} float" if keep_float else ""
    say(f"{job.file}: lowering ({job.runtime} {job.precision}{floats})")
    job_options = dataclasses.replace(options, keep_float=keep_float) if job.precision == "int8" else options
    entry = build_artifact(job, model, calibration, folder, job_options)
    runner = runtime.load(folder / job.file, threads=options.threads, output_names=model.spec.names,
                          **job.io_bounds(options, model.length_grid))
    return entry, runner


def _held_out_parity(runner: runtime.Runner, checked: Checked) -> Parity:
    """The worst held-out window's parity against float."""
    return worst([compare_outputs(ref, runner.run(w)) for w, ref in zip(checked.held_out, checked.held_out_reference)])


def _int8_entry(job: ArtifactJob, chosen: Candidate, checked: Checked, options: ExportOptions) -> dict[str, Any]:
    passed = check_int8(job.file, chosen.parity, options.min_cosine, options.allow_degraded)
    entry = dict(chosen.entry)
    entry["parity"] = {**chosen.parity.to_dict(), "against": "fp32 eager", "audio": f"held-out "
                       f"({len(checked.held_out)} windows)", "passed": passed, "verified_on": describe_cpu()}
    entry["int8_policy"] = chosen.plan.to_dict()
    return entry


def median_latency_ms(runner: runtime.Runner, wav: np.ndarray, runs: int) -> float | None:
    """Median wall time of ``runs`` runs after one warm-up (``None`` when ``runs`` is 0).

    The warm-up is :func:`~fitedge.edge.runtime.timing.time_runner`'s first inference (timed, not counted).
    """
    if runs <= 0:
        return None
    timed = time_runner(lambda: runner, wav, warmup=0, iters=runs)
    return round(float(np.median(timed.timings_ms)), 3)


def _rank_latencies(artifacts: list[mf.ArtifactEntry]) -> None:
    """Each artifact's latency as a multiple of the fastest of the same precision."""
    for precision in {a.precision for a in artifacts}:
        same = [a for a in artifacts if a.precision == precision and a.latency_ms]
        if same:
            fastest = min(a.latency_ms for a in same)
            for a in same:
                a.extra["latency_vs_fastest"] = round(a.latency_ms / fastest, 3)
