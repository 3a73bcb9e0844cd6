"""``fitedge bench``: size, latency, memory and efficiency of every artifact, side by side.

``bench`` is a group whose default subcommand is ``run``: ``fitedge bench [TARGET...]`` measures (bare
``fitedge bench`` runs the default study) and ``fitedge bench compare A.json B.json`` compares two result
files. A plain ``@click.group(invoke_without_command=True)`` cannot take variadic targets next to
subcommand names, so the group routes anything that is not a subcommand name to ``run``.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from fitedge.bench.host.settings import MatrixSettings
from fitedge.cli.params import field_default
from fitedge.errors import ConfigError
from fitedge.extras import require

if TYPE_CHECKING:
    from fitedge.bench.host.streambench import StreamBenchSettings

log = logging.getLogger(__name__)
_default = functools.partial(field_default, MatrixSettings)  # the option's default is the library's


class DefaultRunGroup(click.Group):
    """A group where arguments that do not start with a subcommand name go to ``run``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = ["run", *args]
        return super().parse_args(ctx, args)


def _number_list(kind: type, minimum: float):
    def parse(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple | None:
        if value is None:  # an option without a default: not given
            return None
        try:
            values = tuple(kind(v) for v in value.split(",") if v.strip())
        except ValueError:
            raise click.BadParameter(f"expected comma-separated {kind.__name__}s like 1,4,10; got {value!r}") from None
        if not values or min(values) < minimum:
            raise click.BadParameter(f"every value must be >= {minimum:g}; got {value!r}")
        return values

    return parse


def _console():
    """A rich console; logs and pipes get a wide one so that no column is cut."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 200)


def _device(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    if value != "host" and not (value == "android" or value.startswith("android:") and len(value) > 8):
        raise click.BadParameter(f"expected host, android or android:SERIAL; got {value!r}")
    return value


def _where(ctx: click.Context, on: str, old_spelling: str | None) -> str:
    """``--on``, or the value of its old spelling ``--device`` (hidden, deprecated: in ``distill``, ``pretrain``
    and ``distill_throughput`` ``--device`` is the torch device, cpu or cuda; one name, one meaning)."""
    if old_spelling is None:
        return on
    if ctx.get_parameter_source("on") is not click.core.ParameterSource.DEFAULT and on != old_spelling:
        raise click.UsageError(f"--on {on} and --device {old_spelling} disagree; give --on only")
    log.warning("--device is deprecated in `fitedge bench`; use --on %s", old_spelling)
    return old_spelling


@click.group(cls=DefaultRunGroup)
def bench() -> None:
    """Benchmark artifacts (the default subcommand, run) or compare two result files (compare).

    \b
      fitedge bench                               # the default study: fithubert vs hubert-base
      fitedge bench bundle/ --seconds 1,4,10 --threads 1,2
      fitedge bench bundle/ --on android          # and on a phone, over adb
      fitedge bench compare old/results.json new/results.json
    """


@bench.command("run")
@click.argument("targets", nargs=-1)
@click.option("--reference", metavar="MODEL", help="Model whose fp32 eager run is 100% in the comparisons "
              "(default: hubert-base when a FitHuBERT-like model is measured).")
@click.option("--seconds", default=_default("seconds"), show_default=True, callback=_number_list(float, 0.1),
              help="Audio lengths in seconds, comma-separated.")
@click.option("--threads", default=_default("threads"), show_default=True, callback=_number_list(int, 1),
              help="CPU thread counts, comma-separated. Every number is recorded per thread count, so the default "
                   "is a fixed 2 (the README's measured tables), not each runtime's own default.")
@click.option("--warmup", default=_default("warmup"), show_default=True, type=click.IntRange(min=0),
              help="Untimed runs per cell.")
@click.option("--iters", default=_default("iters"), show_default=True, type=click.IntRange(min=1),
              help="Timed runs per cell.")
@click.option("--timeout", "timeout_s", default=_default("timeout_s"), show_default=True, type=click.FloatRange(min=1),
              help="Seconds one cell's process may take before it is killed and recorded as failed.")
@click.option("--processes", default=_default("processes"), show_default=True, type=click.IntRange(min=1),
              help="Fresh processes per cell, in rounds over all cells; the one with the median p50 is reported. "
                   "On a shared VM one process in five ran a whole cell 1.5x slow, so one could rank runtimes "
                   "either way.")
@click.option("--on", default="host", show_default=True, callback=_device, metavar="host|android[:SERIAL]",
              help="Where to run: this host, or also a phone over adb (the demo app's benchmark mode).")
@click.option("--device", "old_spelling", hidden=True, callback=_device, help="Deprecated spelling of --on.")
@click.option("--adb", "adb_binary", default="adb", show_default=True, help="The adb binary for --on android.")
@click.option("--device-results", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Merge a results.json pulled from the app (contract 3) as a device column.")
@click.option("--export/--no-export", "export_models", default=True, show_default=True,
              help="Export model TARGETs on the fly into temporary bundles, or measure them in eager PyTorch only.")
@click.option("--bundles", "bundles_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Keep the bundles of model TARGETs in this folder and reuse them on later runs "
                   "(default: a temporary folder, exported afresh).")
@click.option("--out", "out_dir", default="bench_results", show_default=True, type=click.Path(path_type=Path),
              help="Folder for results.json, results.md and the PNG plots.")
@click.option("--json", "as_json", is_flag=True, help="Print results.json to stdout instead of the tables.")
@click.option("--profile", is_flag=True,
              help="Instead of the latency matrix, time every op of each artifact of the bundle/file TARGETs in its "
                   "runtime's profiler (first --seconds and --threads value); writes profile.json to --out.")
@click.option("--per-block", is_flag=True,
              help="Instead of the latency matrix, lower each block of every artifact of the TARGETs (bundles or "
                   "models) alone in the artifact's runtime and recipe and time them in turns with the whole artifact "
                   "(first --seconds and --threads value, --iters rounds); writes per_block.json to --out.")
@click.option("--stream", is_flag=True,
              help="Instead of the latency matrix, stream --wav through every artifact (and eager) at each chunk "
                   "setting, each in its own process: RTF, per-chunk p50/p99, algorithmic and first-frame latency, "
                   "peak RSS, streamed-vs-full cosine and PER. Static artifacts take one window, so a model TARGET "
                   "is exported once per setting (kept in --bundles and reused).")
@click.option("--wav", "wav_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="--stream: the utterance to stream (any rate; resampled to 16 kHz).")
@click.option("--chunk-ms", "chunks_ms", callback=_number_list(float, 1),
              help="--stream: chunks, comma-separated ms (default: a bundle's own setting; a model's 320,640).")
@click.option("--left-ms", "lefts_ms", callback=_number_list(float, 0),
              help="--stream: left contexts, comma-separated ms (default 1280 with --chunk-ms or a model).")
@click.option("--right-ms", "rights_ms", callback=_number_list(float, 0),
              help="--stream: right contexts (lookahead), comma-separated ms (default 320 with --chunk-ms or a "
                   "model).")
@click.option("--fill-edges", is_flag=True,
              help="--stream: windows hold only heard audio (the first waits for a whole window, the last ends at "
                   "the audio's end); what a model that attends to everything needs.")
def run(targets: tuple[str, ...], reference: str | None, seconds: tuple[float, ...], threads: tuple[int, ...],
        warmup: int, iters: int, timeout_s: float, processes: int, on: str, old_spelling: str | None, adb_binary: str,
        device_results: Path | None,
        export_models: bool, bundles_dir: Path | None, out_dir: Path, as_json: bool, profile: bool,
        per_block: bool, stream: bool, wav_path: Path | None, chunks_ms: tuple[float, ...] | None,
        lefts_ms: tuple[float, ...] | None, rights_ms: tuple[float, ...] | None, fill_edges: bool = False) -> None:
    """Measure TARGETs: bundle folders, .pte/.tflite/.onnx files, or models (exported on the fly).

    Each artifact x length x threads runs in PROCESSES fresh processes: load time, first inference, WARMUP
    untimed and ITERS timed runs (mean, p50, p90, p99, std) of the median process, real-time factor, peak
    memory, GFLOP/s against this machine's measured GEMM peak. With no TARGET: the fithubert and hubert-base
    presets, fp32 eager plus every exported artifact, 4 s of audio, 2 threads.

    With --stream: one row per artifact x chunk setting instead (see --stream), in results.json's ``streams``.
    """
    require("bench", "fitedge bench run")  # before minutes of timing, not at the tables
    from tqdm import tqdm

    from fitedge.bench.benchmark import DEFAULT_TARGETS, BenchConfig, run_benchmark
    from fitedge.bench.host.onthefly import BundleExporter
    from fitedge.bench.report.tables import write_results_folder

    matrix = MatrixSettings(seconds=seconds, threads=threads, warmup=warmup, iters=iters, timeout_s=timeout_s,
                            processes=processes)
    if profile and per_block:
        raise click.UsageError("--profile and --per-block are two different tables: give one")
    if profile:
        _profile(targets, matrix, out_dir, as_json)
        return
    if per_block:
        _per_block(targets, matrix, out_dir, as_json, bundles_dir)
        return
    if stream:
        from fitedge.bench.host.streambench import StreamBenchSettings, stream_settings

        if len(threads) > 1:
            raise ConfigError(f"--stream takes one --threads value, got {','.join(map(str, threads))}")
        config = StreamBenchSettings(stream_settings(chunks_ms, lefts_ms, rights_ms), threads[0], timeout_s,
                                     fill_edges)
        _stream(targets, wav_path, config, export_models, bundles_dir, out_dir, as_json)
        return
    if wav_path is not None or chunks_ms or lefts_ms or rights_ms or fill_edges:
        raise ConfigError("--wav, --chunk-ms, --left-ms, --right-ms and --fill-edges go with --stream")
    device = _where(click.get_current_context(), on, old_spelling)
    config = BenchConfig(targets=targets or DEFAULT_TARGETS, reference=reference, device=device, adb=adb_binary,
                         device_results=device_results, matrix=matrix)
    # One bar for everything slow: each export step of a model target, then each timed cell. Without a
    # terminal (CI logs) the bar is off and each step is a line on stderr instead.
    with tempfile.TemporaryDirectory(prefix="fitedge-bench-") as tmp, \
            tqdm(desc="bench", unit="step", disable=as_json or None, file=sys.stderr) as bar:
        def step(text: str) -> None:
            if bar.disable and not as_json:
                click.echo(f"bench: {text}", err=True)
            bar.set_postfix_str(text[:70])
            bar.update()

        export = None
        if export_models:
            export = BundleExporter(bundles_dir or Path(tmp), seconds=seconds, threads=max(threads),
                                    say=lambda line: step(f"export {line}"), reuse=bundles_dir is not None)
        def cell_done(r: dict) -> None:
            if r["status"] == "skipped":  # the reason says what to install or which length it takes
                step(f"skipped {r['model']} {r['artifact']}: {r['error']}")
            else:
                step(f"timed {r['model']} {r['artifact']}: {r['status']} ({len(r['process_p50_ms'])}/{processes})")

        doc = run_benchmark(config, export, on_cell=cell_done)
    written = write_results_folder(doc, out_dir)
    if as_json:
        click.echo(json.dumps(doc, indent=1))
        return
    from fitedge.bench.report.tables import print_tables

    print_tables(doc, _console())
    click.echo(f"wrote {', '.join(str(p) for p in written)}")


def _profile(targets: tuple[str, ...], matrix: MatrixSettings, out_dir: Path, as_json: bool) -> None:
    """``run --profile``: the per-op table of every artifact, and ``profile.json``."""
    from fitedge.bench.host.profile import format_profile, profile_targets

    if not targets:
        raise ConfigError("--profile needs TARGETs: bundle folders or .pte/.tflite/.onnx files")
    profiles = profile_targets(targets, matrix, out_dir)
    _write_and_print(out_dir / "profile.json", {"profiles": [p.to_dict() for p in profiles]}, as_json,
                     [format_profile(p) for p in profiles])


def _per_block(targets: tuple[str, ...], matrix: MatrixSettings, out_dir: Path, as_json: bool,
               bundles_dir: Path | None) -> None:
    """``run --per-block``: each artifact's blocks timed alone beside the whole, and ``per_block.json``."""
    from fitedge.bench.host.onthefly import BundleExporter
    from fitedge.bench.host.per_block import format_blocks, per_block_targets

    if not targets:
        raise ConfigError("--per-block needs TARGETs: bundle folders or model names")
    with tempfile.TemporaryDirectory(prefix="fitedge-bench-") as tmp:
        export = BundleExporter(bundles_dir or Path(tmp), seconds=matrix.seconds[:1], threads=matrix.threads[0],
                                say=lambda line: click.echo(f"bench: export {line}", err=True),
                                reuse=bundles_dir is not None)
        results = per_block_targets(targets, matrix, export)
    _write_and_print(out_dir / "per_block.json", {"per_block": [r.to_dict() for r in results]}, as_json,
                     [format_blocks(r) for r in results])


def _write_and_print(path: Path, doc: dict, as_json: bool, tables: list[str]) -> None:
    """Write ``doc`` to ``path``; print it as JSON, or print the tables and where it went."""
    from fitedge.files import write_json

    path.parent.mkdir(parents=True, exist_ok=True)
    written = write_json(path, doc)
    if as_json:
        click.echo(json.dumps(doc, indent=1))
        return
    for table in tables:
        click.echo(table + "\n")
    click.echo(f"wrote {written}")


def _stream(targets: tuple[str, ...], wav_path: Path | None, config: StreamBenchSettings, export_models: bool,
            bundles_dir: Path | None, out_dir: Path, as_json: bool) -> None:
    """``run --stream``: a row per artifact x chunk setting, the table, and results.json with its ``streams``."""
    from fitedge import console
    from fitedge.bench.benchmark import stream_benchmark
    from fitedge.bench.host.onthefly import BundleExporter
    from fitedge.bench.host.streambench import stream_table_doc
    from fitedge.bench.host.streaming import format_table
    from fitedge.bench.report.tables import write_results_folder
    from fitedge.distill.data.audio import read_audio

    if not targets:
        raise ConfigError("--stream needs TARGETs: bundle folders, .pte/.tflite/.onnx files or models")
    if wav_path is None:
        raise ConfigError("--stream needs --wav FILE: the utterance to stream")
    wav = read_audio(wav_path)
    say = (lambda line: None) if as_json else console.say
    with tempfile.TemporaryDirectory(prefix="fitedge-bench-") as tmp:
        exporters: dict = {}

        def export(source: str, setting) -> Path:  # one bundle per setting: a static artifact takes one window
            if setting not in exporters:
                exporters[setting] = BundleExporter(bundles_dir or Path(tmp), seconds=(), threads=config.threads,
                                                    say=lambda line: say(f"bench: export {line}"),
                                                    reuse=bundles_dir is not None, stream=setting)
            return exporters[setting](source)

        def row_done(r: dict) -> None:
            if r["status"] != "skipped":  # skipped rows are one line each under the table
                say(f"bench: streamed {r['artifact']} at {r['chunk_ms']:g} ms chunks: {r['status']}")

        doc = stream_benchmark(list(targets), wav, config, export if export_models else None, row_done)
    written = write_results_folder(doc, out_dir)
    if as_json:
        click.echo(json.dumps(doc, indent=1))
        return
    click.echo(format_table(stream_table_doc(doc)))
    click.echo(f"wrote {', '.join(str(p) for p in written)}")


@bench.command("compare")
@click.argument("a", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("b", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the ratios as JSON.")
def compare_cmd(a: Path, b: Path, as_json: bool) -> None:
    """Ratios B/A of two results.json files, run by run (below 1: B is smaller or faster)."""
    from fitedge.bench.host.compare import compare_runs, unmatched_runs
    from fitedge.bench.report.results import read_results
    from fitedge.bench.report.tables import print_comparison

    doc_a, doc_b = read_results(a), read_results(b)
    rows = compare_runs(doc_a, doc_b)
    if not rows:
        raise ConfigError(f"{a} and {b} share no successful run (same model, artifact, device, length, threads)")
    if as_json:
        click.echo(json.dumps({"a": str(a), "b": str(b), "rows": rows, "unmatched": unmatched_runs(doc_a, doc_b)},
                              indent=1))
        return
    print_comparison(rows, unmatched_runs(doc_a, doc_b), _console())
