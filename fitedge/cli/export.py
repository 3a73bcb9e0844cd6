"""``fitedge export``, ``fitedge verify`` and ``fitedge.quantize.auto.sensitivity``: parse, call the library, print."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import click

from fitedge import console
from fitedge.cli.params import config_option, field_default
from fitedge.edge.backends import BACKENDS
from fitedge.edge.export.options import (
    CALIBRATIONS,
    EXECUTORCH_INT8_MODES,
    INT8_MODES,
    LITERT_INT8_MODES,
    ONNX_INT8_MODES,
    ExportOptions,
)
from fitedge.errors import BundleError

_default = functools.partial(field_default, ExportOptions)  # the option's default is the library's


@click.command()
@config_option
@click.argument("model")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Bundle folder to write.")
@click.option("--targets", default=_default("targets"), show_default=True,
              help=f"Comma-separated: {', '.join(f'{b.target} ({b.name})' for b in BACKENDS)}.")
@click.option("--precision", default=_default("precisions"), show_default=True, help="Comma-separated: fp32, int8.")
@click.option("--seconds", default=_default("seconds"), show_default=True,
              help="Input length (static, and of the golden input).")
@click.option("--dynamic", default=None, metavar="MIN:MAX",
              help="Bounded dynamic length in samples (16000:160000) or seconds (1s:10s); .pte/.onnx only.")
@click.option("--outputs", default=_default("outputs"), show_default=True,
              help="last, all, final_proj, or layers like 4,8,12.")
@click.option("--head", default=None, type=click.Path(dir_okay=False),
              help="CTC head (fitedge eval per --save-probe): the artifacts also return its `logits`; the bundle "
                   "gets tokens.txt (for fitedge transcribe).")
@click.option("--calib", default=None, help="Calibration speech: audio folder, TSV manifest or corpus folder "
                                            "(default: built-in espeak-ng speech).")
@click.option("--calib-windows", default=_default("calib_windows"), show_default=True,
              help="Most calibration windows used.")
@click.option("--calibration", type=click.Choice(CALIBRATIONS), default=_default("calibration"), show_default=True,
              help="How static int8 observes activation ranges. auto: each method the runtime's quantizer offers "
                   "(ExecuTorch/LiteRT: histogram, minmax, each also with +bias-correction, which then shifts each "
                   "conv's and linear's bias by the mean error int8 leaves; ONNX Runtime: minmax, percentile, "
                   "entropy), keeping the one closest to float on held-out speech (the manifest records every "
                   "candidate's cosine).")
@click.option("--keep-float", default=_default("keep_float"),
              help="Module globs kept float in int8, e.g. feature_extractor.conv_layers.0,encoder.pos_conv_embed")
@click.option("--int8", "int8_mode", type=click.Choice(INT8_MODES), default=_default("int8"), show_default=True,
              help="auto: keep float the blocks whose own int8 error stands out, and more until every int8 artifact "
                   "passes --min-cosine; plain: every block in int8. --keep-float overrides both.")
@click.option("--min-cosine", default=_default("min_cosine"), show_default=True,
              help="int8 cosine floor vs float on held-out audio.")
@click.option("--allow-degraded", is_flag=True, help="Keep int8 artifacts below --min-cosine (flagged).")
@click.option("--min-decisions", default=_default("min_decisions"), show_default=True, type=click.FloatRange(0, 1),
              help="With --head, int8 auto: the share of held-out frames whose best token must be fp32's. Below it, "
                   "an artifact is rebuilt with its runtime's closer int8 recipe (ExecuTorch, ONNX Runtime: dynamic; "
                   "LiteRT: dynamic-linears), kept if closer; 0 turns it off.")
@click.option("--int8-costs/--no-int8-costs", default=_default("int8_costs"), show_default=True,
              help="int8 auto: time each block alone in float and int8 in each runtime, so that the plan also keeps "
                   "float where float is faster and widens by int8 error per ms saved. Off by default: it lowers "
                   "every screened block twice per runtime.")
@click.option("--executorch-int8", type=click.Choice(EXECUTORCH_INT8_MODES), default=_default("executorch_int8"),
              show_default=True,
              help="static: int8 activations from op to op, calibrated (fastest); dynamic: each conv's and linear's "
                   "input quantized per row at run time, float in between (slower, about float's accuracy).")
@click.option("--litert-int8", type=click.Choice(LITERT_INT8_MODES), default=_default("litert_int8"), show_default=True,
              help="dynamic: activations quantized per input at run time; where int8 auto keeps blocks float, it "
                   "also builds static with them float and keeps dynamic only if clearly faster. static: calibrated. "
                   "dynamic-linears: only the linears, each frame's input on its own scale, convs float (closest "
                   "to float).")
@click.option("--onnx-int8", type=click.Choice(ONNX_INT8_MODES), default=_default("onnx_int8"), show_default=True,
              help="static: calibrated QDQ (fastest); dynamic: each linear's input quantized per row at run time, "
                   "convs float (slower, closer to float).")
@click.option("--threads", default=_default("threads"), show_default=True, type=click.IntRange(min=1),
              help="Threads for the parity runs and the built-in timing. The manifest records the latency with this "
                   "count, so it is a fixed number (2, as in the README's tables), not each runtime's own default.")
@click.option("--timing-runs", default=_default("timing_runs"), show_default=True,
              help="Runs of the built-in timing (0 to skip).")
@click.option("--android", default=None, type=click.Path(path_type=Path),
              help="Also copy the bundle here (the demo app's assets folder for it).")
@click.option("--force", is_flag=True, help="Replace an existing bundle.")
@click.option("--etrecord", is_flag=True, help="Keep an ETRecord beside each .pte (ExecuTorch's Inspector; large).")
@click.option("--integer-io", is_flag=True,
              help="LiteRT static int8: keep the int8 input of full-integer quantization (scale and zero point in the "
                   "manifest's input_quantization; runners and the app quantize the audio). Default: every artifact "
                   "takes float32 audio and returns float32.")
@click.option("--seed", default=_default("seed"), show_default=True,
              help="Seed of a preset's random weights (same seed, same model).")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON instead of the table.")
@click.option("--gate-per", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
              help="PER gate: labelled corpus on which every artifact's phoneme error rate is checked against float.")
@click.option("--max-per-increase", default=2.0, show_default=True,
              help="PER gate: most PER points an artifact may lose against the float model.")
@click.option("--chunk-ms", type=float, default=None,
              help="Streaming: the static input becomes one window of this chunk (replaces --seconds); the "
                   "manifest records it (fitedge stream, fitedge.stream).")
@click.option("--left-ms", type=float, default=0.0, show_default=True, help="Streaming: left context of the window.")
@click.option("--right-ms", type=float, default=0.0, show_default=True,
              help="Streaming: right context (lookahead) of the window.")
def export(model: str, out: Path, targets: str, precision: str, seconds: float, dynamic: str | None, outputs: str,
           calib: str | None, calib_windows: int, calibration: str, keep_float: str, int8_mode: str,
           min_cosine: float, allow_degraded: bool, min_decisions: float, int8_costs: bool, executorch_int8: str,
           litert_int8: str, onnx_int8: str, threads: int, timing_runs: int, android: Path | None, force: bool,
           etrecord: bool, integer_io: bool, seed: int, as_json: bool,
           gate_per: Path | None = None, max_per_increase: float = 2.0, chunk_ms: float | None = None,
           left_ms: float = 0.0, right_ms: float = 0.0, head: str | None = None) -> None:
    """Export MODEL to a verified bundle: .pte, .tflite and .onnx in fp32 and int8, golden files, manifest, report.

    MODEL is a preset (random weights: the bundle says UNTRAINED), a fitedge checkpoint folder, or any
    checkpoint `fitedge import` reads. Every fp32 artifact must match eager PyTorch (cosine >= 0.99999, max
    abs diff <= 1e-3); every int8 one must keep --min-cosine against float on held-out speech.

    \b
    Examples:
      fitedge export fithubert --out bundle/
      fitedge export student/ --out b/ --precision int8 --keep-float feature_extractor.conv_layers.0
      fitedge export student/ --out b/ --dynamic 1s:10s --outputs 4,8,12 --android app/src/main/assets/bundle
      fitedge export student/ --out b/ --head head.safetensors   # + CTC logits and tokens.txt
    """
    from fitedge.edge.bundle.folder import report_markdown
    from fitedge.edge.export.options import parse_dynamic, parse_list

    options = ExportOptions(
        targets=parse_list(targets), precisions=parse_list(precision), seconds=seconds, dynamic=parse_dynamic(dynamic),
        outputs=outputs, calib=calib, calib_windows=calib_windows, calibration=calibration,
        keep_float=parse_list(keep_float), int8=int8_mode, min_cosine=min_cosine, allow_degraded=allow_degraded,
        min_decisions=min_decisions, int8_costs=int8_costs, executorch_int8=executorch_int8, litert_int8=litert_int8,
        onnx_int8=onnx_int8, threads=threads, timing_runs=timing_runs, force=force, android=android, seed=seed,
        etrecord=etrecord, integer_io=integer_io, chunk_ms=chunk_ms, left_ms=left_ms, right_ms=right_ms, head=head)
    options.require_installed()
    from fitedge.edge.export.pipeline import export_bundle

    gate = None
    if gate_per is not None:  # the PER gate pulls in the probe's stack: only when asked for
        from fitedge.bench.eval.gate import PerGate

        gate = PerGate(str(gate_per), max_per_increase)
    doc = export_bundle(model, out, options, progress=console.say, gate=gate)
    click.echo(json.dumps(doc, indent=2) if as_json else report_markdown(doc))


@click.command()
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="CPU threads of each runtime (default: the runtime's own). Nothing timed is recorded; parity is "
                   "judged against the bundle's thresholds.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable results.")
@click.option("--arch", type=click.Choice(["native", "arm64"]), default="native", show_default=True,
              help="arm64: run every artifact in its runtime's aarch64 build under qemu-aarch64, per CPU model.")
@click.option("--cpu", "cpus", default=None,
              help="With --arch arm64: emulated CPU classes, comma-separated, of cortex-a53 (Armv8.0, no "
                   "dot-product), cortex-a76 (Armv8.2, dot-product), armv8.6-i8mm, armv9.2-sme "
                   "(default: all but armv9.2-sme).")
@click.option("--record", is_flag=True, help="With --arch arm64: write the results into manifest.json and report.md.")
def verify(bundle: Path, threads: int | None, as_json: bool, arch: str, cpus: str | None, record: bool) -> None:
    """Re-run every check of an exported BUNDLE on this machine: sha256 of every file, parity of every artifact.

    int8 kernels differ by CPU (AVX2, AVX-512, VNNI, ARM64), so parity is re-measured here, and the first line
    names the CPU class it ran on; the manifest names the one the bundle was exported on. `--arch arm64`
    emulates phone CPUs instead (the first run sets up an arm64 Python and the runtimes' aarch64 wheels under
    ~/.cache/fitedge/arm64) and also counts the instructions of one inference on each.
    """
    if arch == "arm64":
        _verify_arm64(bundle, [c.strip() for c in cpus.split(",") if c.strip()] if cpus else None, as_json, record)
        return
    if record:
        raise click.UsageError("--record needs --arch arm64")
    from fitedge.edge.export.verify import verify_bundle
    from fitedge.host import describe_cpu

    checks = verify_bundle(bundle, threads=threads)
    cpu = describe_cpu()
    if as_json:
        click.echo(json.dumps({"cpu": cpu, "artifacts": [
            {"file": c.file, "precision": c.precision, "ok": c.ok, "skipped": c.skipped, "problem": c.problem,
             "parity": c.parity.to_dict() if c.parity else None} for c in checks]}, indent=2))
    else:
        click.echo(f"on {cpu['class']} ({cpu['model']}; {', '.join(cpu['isa']) or 'no SIMD extension of note'})")
        for c in checks:
            verdict = "ok  " if c.ok else "skip" if c.skipped else "FAIL"
            click.echo(f"{verdict} {c.file:32s} {c.parity.describe() if c.parity else c.problem}")
    failed = [c.file for c in checks if not (c.ok or c.skipped)]
    if all(c.skipped for c in checks):
        raise BundleError(f"{bundle}: no artifact's runtime is installed here, nothing was checked")
    if failed:
        raise BundleError(f"{bundle}: {len(failed)} of {len(checks)} artifacts failed: {', '.join(failed)}")


def _verify_arm64(bundle: Path, cpus: list[str] | None, as_json: bool, record: bool) -> None:
    from fitedge.edge.export.verify_arm64 import format_table, record_arm64, verify_bundle_arm64

    report = verify_bundle_arm64(bundle, cpus, progress=console.say)
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else format_table(report))
    if record:
        record_arm64(bundle, report)
    failed = report.failed()
    if failed:
        runs = ", ".join(f"{c.file} on {c.cpu}" for c in failed)
        raise BundleError(f"{bundle}: {len(failed)} of {len(report.checks)} arm64 runs failed: {runs}")


@click.group()
def quantize() -> None:
    """int8 tools: find the blocks that int8 hurts most."""


@quantize.command()
@click.argument("model")
@click.option("--calib", default=None, help="Calibration speech (default: built-in espeak-ng speech).")
@click.option("--seconds", default=4.0, show_default=True)
@click.option("--calib-windows", default=8, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON instead of a table.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the JSON report to this file.")
def sensitivity(model: str, calib: str | None, seconds: float, calib_windows: int, as_json: bool,
                out: Path | None) -> None:
    """Quantize one block of MODEL at a time (ExecuTorch's XNNPACK recipe) and report output cosine and SNR vs float.

    Prints the blocks worth keeping in float (pass them to `fitedge export --keep-float`).
    """
    from fitedge.files import write_json
    from fitedge.quantize.auto.sensitivity import block_sensitivity, worth_keeping_float

    results = block_sensitivity(model, calib, seconds, calib_windows)
    report = {"model": model, "blocks": [r.to_dict() for r in results], "keep_float": worth_keeping_float(results)}
    if out is not None:
        write_json(out, report)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"{'block':40s} {'cosine':>10s} {'SNR dB':>8s}")
    for r in results:
        click.echo(f"{r.block:40s} {r.cosine:10.6f} {r.snr_db:8.1f}")
    keep = report["keep_float"]
    click.echo(f"worth keeping in float: {','.join(keep) if keep else '(none stands out)'}")
