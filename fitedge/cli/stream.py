"""``fitedge stream``: measure live streaming of a bundle's artifacts (and eager) on a wav file."""

from __future__ import annotations

import json
from pathlib import Path

import click

from fitedge import console
from fitedge.errors import ConfigError


def milliseconds(option: str, text: str) -> tuple[float, ...]:
    """Comma-separated milliseconds of ``option``; a one-line error if they are not numbers."""
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ConfigError(f"{option} wants comma-separated milliseconds like 320,640, got {text!r}") from None
    if not values:
        raise ConfigError(f"{option} needs at least one value")
    return values


@click.command()
@click.argument("bundle")
@click.option("--wav", "wav_path", required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="The utterance to stream (any rate; resampled to 16 kHz).")
@click.option("--chunk-ms", default=None, help="Chunks to measure, comma-separated ms (default 640; a static "
                                               "artifact exported with --chunk-ms, or a model with chunked "
                                               "attention: its own setting).")
@click.option("--left-ms", default=None, help="Left contexts, comma-separated ms (default 1280).")
@click.option("--right-ms", default=None, help="Right contexts (lookahead), comma-separated ms (default 320).")
@click.option("--sweep", is_flag=True, help="Chunks 160,320,640,1280 ms x left 640,1280,2560 ms (and --right-ms).")
@click.option("--plot", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write a PNG of mean frame cosine against algorithmic latency.")
@click.option("--fill-edges", is_flag=True,
              help="Keep made-up silence out of every window: the first waits for a whole window of audio, the "
                   "last ends at the audio's end. Raises the first frame's latency; a model that attends to "
                   "everything needs it to match its full-utterance output.")
@click.option("--threads", type=click.IntRange(min=1), default=2, show_default=True, help="CPU threads per runtime.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
def stream(bundle: str, wav_path: Path, chunk_ms: str | None, left_ms: str | None, right_ms: str | None,
           sweep: bool, plot: Path | None, fill_edges: bool, threads: int, as_json: bool) -> None:
    """Stream WAV through every artifact of BUNDLE (and eager PyTorch) and measure it, per chunk setting.

    Reports the real-time factor, per-window compute p50/p99, algorithmic and first-frame latency, peak RSS,
    and the cosine of the streamed frames against the full-utterance eager output (mean and worst frame).
    BUNDLE may also be a model (preset or checkpoint) to stream eagerly. A static artifact serves only the
    setting of its own window; dynamic artifacts and eager serve every setting.

    \b
    Examples:
      fitedge stream bundle/ --wav hello.wav --chunk-ms 320,640 --left-ms 1280 --right-ms 320
      fitedge stream fithubert --wav hello.wav --sweep --plot sweep.png --json
      fitedge stream student/ --wav hello.wav --chunk-ms 640 --left-ms 3840 --right-ms 1280 --fill-edges
    """
    from fitedge.bench.host.streaming import SWEEP_CHUNKS_MS, SWEEP_LEFTS_MS, format_table, settings_grid, stream_report
    from fitedge.distill.data.audio import read_audio
    from fitedge.edge.stream.source import bundle_default_ms

    recorded = bundle_default_ms(bundle)
    chunks = SWEEP_CHUNKS_MS if sweep else milliseconds("--chunk-ms", chunk_ms) if chunk_ms else (recorded[0],)
    lefts = SWEEP_LEFTS_MS if sweep else milliseconds("--left-ms", left_ms) if left_ms else (recorded[1],)
    rights = milliseconds("--right-ms", right_ms) if right_ms else (recorded[2],)
    doc = stream_report(bundle, read_audio(wav_path), settings_grid(chunks, lefts, rights, fill_edges), threads,
                        progress=console.say)
    if plot is not None:
        from fitedge.bench.report.stream_plot import plot_stream_sweep

        console.say(f"plot: {plot_stream_sweep(doc, plot)}")
    click.echo(json.dumps(doc, indent=2) if as_json else format_table(doc))

