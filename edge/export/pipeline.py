"""``export_bundle``: model in, verified bundle out; the step sequence behind ``fitedge export``.

Steps: load the model and wrap it (:mod:`fitedge.distill.models.deployable`); take calibration and held-out
speech; compute the golden outputs in eager PyTorch; then per target and precision lower, load the artifact in its real
runtime, check parity (float: against eager on the golden input; int8: against float on held-out windows),
time it; finally write golden files, manifest and report, and rename the folder into place. int8 artifacts go
through int8 auto (:mod:`fitedge.quantize.auto`): the first plan, the search per artifact, and widening one the
PER gate refuses; this module passes it the runtime side (lowering a plan, loading, timing, and each block's
float and int8 time alone in the artifact's runtime, which makes the plan cost-aware).
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
from fitedge.edge.export.per_block import float_and_int8_ms
from fitedge.edge.export.plan import ArtifactJob, build_artifact, plan_jobs
from fitedge.edge.export.verify import check_fp32, check_int8
from fitedge.edge.lower.onnx import lower_to_onnx
from fitedge.edge.runtime.timing import side_by_side_ms, time_runner
from fitedge.edge.stream.geometry import streaming_section
from fitedge.host import describe_cpu
from fitedge.parity import Parity, compare_outputs, same_decisions, worst
from fitedge.quantize.auto.block_models import block_models
from fitedge.quantize.auto.policy import BlockCost, Int8Plan, sensitivity_table
from fitedge.quantize.auto.refused import widened_after_refusal
from fitedge.quantize.auto.screening import OnnxRuntimeSide, first_plan
from fitedge.quantize.auto.search import Candidate, Int8Target, Lowered, search_int8

log = logging.getLogger(__name__)
COST_WINDOWS, COST_ROUNDS = 2, 5  # int8 auto's per-block costs: a short run, in turns (about a minute for fithubert)
Progress = Callable[[str], None]


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
    plan = (first_plan(options.int8, options.keep_float, model, audio, _onnx_runtime_side(options.threads), say)
            if "int8" in options.precisions else None)
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
        wider = widened_after_refusal(file, used, why, say)
        if wider is None:
            return False
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
            manifest.extra["streaming"] = streaming_section(streaming, model.config)
        manifest.extra.update(model.write_head(tmp))  # --head: tokens.txt and the manifest's head section
        manifest.write(tmp)
        bd.write_bundle_report(tmp, manifest)
        if gate is not None:  # a refusal raises here, so no bundle is left
            gate.apply(tmp, manifest, reference=eager, threads=options.threads, progress=say, widen=widen)
    if options.android is not None:
        say(f"copying to {bd.copy_to_android(out, options.android)}")
    return manifest.to_dict()


CLOSER_FOLDER = ".closer-int8"  # beside the artifact while the runtime's closer int8 recipe is tried


@dataclass(frozen=True)
class Checked:
    """What parity is checked against: the golden input and eager outputs, and the held-out windows'."""

    golden_input: np.ndarray
    golden: dict[str, np.ndarray]
    held_out: list[np.ndarray]
    held_out_reference: list[dict[str, np.ndarray]]


def _onnx_runtime_side(threads: int | None) -> OnnxRuntimeSide:
    """Lowering to and loading in ONNX Runtime, for int8 auto's screening where executorch is not installed."""
    def load(path: Path, output_names: list[str], samples: int) -> runtime.Runner:
        return runtime.load(path, threads=threads, output_names=output_names, input_samples=samples)

    return OnnxRuntimeSide(lower_to_onnx, load)


def _build_checked(job: ArtifactJob, model: ExportModel, calibration: list[np.ndarray], folder: Path,
                   options: ExportOptions, plan: Int8Plan | None, checked: Checked,
                   say: Progress) -> tuple[dict[str, Any], runtime.Runner, Int8Plan | None]:
    """Lower ``job`` and check its parity; returns the manifest entry, the loaded artifact and its int8 plan.

    The plan is ``None`` for fp32; int8 goes through int8 auto's search (:mod:`fitedge.quantize.auto.search`).
    """
    if job.precision == "fp32":
        entry, runner = _build_fp32(job, model, calibration, folder, options, checked, say)
        return entry, runner, None
    assert plan is not None
    chosen = _search_int8(job, model, calibration, folder, options, plan, checked, say)
    entry = _int8_entry(job, chosen, checked, options)
    if model.decisions_output is not None:
        chosen, entry = _held_to_decisions(job, model, calibration, folder, options, plan, checked, say, chosen, entry)
    return entry, chosen.artifact.runner, chosen.plan


def _build_fp32(job: ArtifactJob, model: ExportModel, calibration: list[np.ndarray], folder: Path,
                options: ExportOptions, checked: Checked, say: Progress) -> tuple[dict[str, Any], runtime.Runner]:
    """The fp32 artifact of ``job``, checked against eager on the golden input (raises when it misses)."""
    entry, runner = _lower(job, model, calibration, folder, options, (), say)
    result = compare_outputs(checked.golden, runner.run(checked.golden_input))
    check_fp32(job.file, result, mf.FP32_THRESHOLDS["min_cosine"], mf.FP32_THRESHOLDS["max_abs_diff"])
    entry["parity"] = {**result.to_dict(), "against": "fp32 eager", "audio": "golden", "verified_on": describe_cpu()}
    return entry, runner


def _search_int8(job: ArtifactJob, model: ExportModel, calibration: list[np.ndarray], folder: Path,
                 options: ExportOptions, plan: Int8Plan, checked: Checked, say: Progress) -> Candidate:
    """int8 auto's search for ``job``'s artifact, lowering each plan it tries in ``job``'s runtime.

    In auto with ``--int8-costs``, the plan first learns what each screened block costs in that runtime.
    ``--calibration auto`` compares the calibration methods on the first plan only; the later plans reuse its
    choice (and its record), since each comparison quantizes the model once per method.
    """
    if plan.mode == "auto" and plan.sensitivity and not plan.costs and options.int8_costs:
        plan = plan.with_costs(_block_costs(job, model, calibration, [r.block for r in plan.sensitivity], options,
                                            say), job.runtime)
    compared: dict[str, Any] = {}

    def lower(keep_float: tuple[str, ...], into: Path) -> Lowered:
        plan_options = dataclasses.replace(options, calibration=compared["method"]) if compared else options
        entry, runner = _lower(job, model, calibration, into, plan_options, keep_float, say, checked.held_out)
        if "calibration" in entry:
            if not compared:  # the first plan with a calibration: its comparison is the record
                compared.update(entry["calibration"], compared_on_keep_float=list(keep_float))
            entry["calibration"] = dict(compared)
        return Lowered(entry, runner, into / job.file, _held_out_parity(runner, checked))

    target = Int8Target(file=job.file, folder=folder, min_cosine=options.min_cosine,
                        quantizes_at_run_time=job.backend.quantizes_at_run_time(options), lower=lower,
                        time_side_by_side=lambda runners, rounds: side_by_side_ms(runners, checked.golden_input,
                                                                                 rounds))
    return search_int8(target, plan, say)


def _block_costs(job: ArtifactJob, model: ExportModel, calibration: list[np.ndarray], names: list[str],
                 options: ExportOptions, say: Progress) -> list[BlockCost]:
    """Each block of ``names`` alone in ``job``'s runtime and int8 recipe, float and int8, timed in turns."""
    say(f"{job.file}: timing each block alone in {job.runtime}, float and int8 (int8 auto's costs; "
        f"--int8-costs)")
    blocks = block_models(model.deployable(), names, calibration[:COST_WINDOWS])
    times = float_and_int8_ms(job.backend, blocks, options, options.threads, COST_ROUNDS)
    costs = [BlockCost(name, float_ms, int8_ms) for name, (float_ms, int8_ms) in times.items()]
    say(f"{job.file}: int8 saves " + ", ".join(f"{c.block} {c.saving_ms:.2f} ms" for c in costs))
    return costs


def _lower(job: ArtifactJob, model: ExportModel, calibration: list[np.ndarray], folder: Path, options: ExportOptions,
           keep_float: tuple[str, ...], say: Progress,
           held_out: list[np.ndarray] | None = None) -> tuple[dict[str, Any], runtime.Runner]:
    """The artifact of ``job`` with ``keep_float`` out of int8, written and loaded in its runtime (``held_out``: the
    windows on which the int8 recipe compares calibration methods)."""
    floats = f", {len(keep_float)} block{'s' if len(keep_float) > 1 else ''} float" if keep_float else ""
    say(f"{job.file}: lowering ({job.runtime} {job.precision}{floats})")
    job_options = dataclasses.replace(options, keep_float=keep_float) if job.precision == "int8" else options
    entry = build_artifact(job, model, calibration, folder, job_options, held_out or ())
    runner = runtime.load(folder / job.file, threads=options.threads, output_names=model.spec.names,
                          **job.io_bounds(options, model.length_grid))
    return entry, runner


def _held_out_parity(runner: runtime.Runner, checked: Checked) -> Parity:
    """The worst held-out window's parity against float."""
    return worst([compare_outputs(ref, runner.run(w)) for w, ref in zip(checked.held_out, checked.held_out_reference)])


def _held_to_decisions(job: ArtifactJob, model: ExportModel, calibration: list[np.ndarray], folder: Path,
                       options: ExportOptions, plan: Int8Plan, checked: Checked, say: Progress, chosen: Candidate,
                       entry: dict[str, Any]) -> tuple[Candidate, dict[str, Any]]:
    """Record how often ``chosen``'s head decides as fp32's; in int8 auto, below ``--min-decisions``, rebuild it
    with its runtime's closer int8 recipe (in a subfolder, moved in if kept) and keep whichever decides closer."""
    decisions = _held_out_decisions(chosen.artifact.runner, checked, model.decisions_output)
    entry["parity"]["decisions"] = decisions
    closer = job.backend.closer_int8(options)
    if decisions >= options.min_decisions or not closer or plan.mode != "auto":
        _note_decisions(job, decisions, options, closer, say)
        return chosen, entry
    flags = _as_flags(closer)
    say(f"{job.file}: its head picks fp32's token on {decisions:.1%} of held-out frames, below --min-decisions "
        f"{options.min_decisions}; trying {flags}")
    aside = folder / CLOSER_FOLDER
    aside.mkdir()
    closer_options = dataclasses.replace(options, **closer)
    candidate = _search_int8(job, model, calibration, aside, closer_options, plan, checked, say)
    closer_decisions = _held_out_decisions(candidate.artifact.runner, checked, model.decisions_output)
    tried = {"min": options.min_decisions, "first": {"recipe": entry["recipe"], "decisions": decisions},
             "closer": {"options": flags, "recipe": candidate.artifact.entry["recipe"], "decisions": closer_decisions}}
    # Kept only if it also holds the cosine floor the first one held: never a passing artifact turned failing.
    if closer_decisions > decisions and candidate.artifact.parity.cosine >= min(options.min_cosine,
                                                                               chosen.artifact.parity.cosine):
        candidate.artifact.path.replace(folder / job.file)
        chosen, entry = candidate, _int8_entry(job, candidate, checked, closer_options)
        entry["parity"]["decisions"] = decisions = closer_decisions
    shutil.rmtree(aside)
    say(f"{job.file}: {flags} picks fp32's token on {closer_decisions:.1%}; kept {entry['recipe']}")
    entry["decisions_floor"] = tried
    _note_decisions(job, decisions, options, None, say)
    return chosen, entry


def _held_out_decisions(runner: runtime.Runner, checked: Checked, output: str) -> float:
    """The share of held-out frames where ``output`` (a CTC head's logits) picks fp32 eager's best token."""
    return round(float(np.mean([same_decisions(ref[output], runner.run(w)[output])
                                for w, ref in zip(checked.held_out, checked.held_out_reference)])), 4)


def _note_decisions(job: ArtifactJob, decisions: float, options: ExportOptions, closer: dict[str, str] | None,
                    say: Progress) -> None:
    """Say when an int8 head's decisions stay below the floor: its transcripts will show it."""
    if decisions >= options.min_decisions:
        return
    hint = f"; closer: {_as_flags(closer)}" if closer else ""
    say(f"{job.file}: note: its head picks fp32's token on {decisions:.1%} of held-out frames, so its transcripts "
        f"will differ from fp32's{hint}")


def _as_flags(options: dict[str, str]) -> str:
    return " ".join(f"--{name.replace('_', '-')} {value}" for name, value in options.items())


def _int8_entry(job: ArtifactJob, chosen: Candidate, checked: Checked, options: ExportOptions) -> dict[str, Any]:
    passed = check_int8(job.file, chosen.artifact.parity, options.min_cosine, options.allow_degraded)
    entry = dict(chosen.artifact.entry)
    entry["parity"] = {**chosen.artifact.parity.to_dict(), "against": "fp32 eager", "audio": f"held-out "
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
