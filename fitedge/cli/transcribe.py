"""``fitedge transcribe``: phonemes of a WAV file from every artifact of a bundle exported with a CTC head."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command()
@click.argument("bundle", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.argument("audio", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--artifact", "artifacts", multiple=True,
              help="Only this artifact file of the bundle (repeatable); an int8 one runs with its fp32 sibling.")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Threads of each runtime (default: its own).")
@click.option("--stream", "streamed", is_flag=True,
              help="Hear the audio live, in 20 ms pieces through fitedge.stream, and decode the frames as they become "
                   "final (a static artifact needs its export's --chunk-ms).")
@click.option("--chunk-ms", type=click.FloatRange(min=0, min_open=True), default=None,
              help="With --stream: the chunk (default: the bundle's streaming section, else 640).")
@click.option("--left-ms", type=click.FloatRange(min=0), default=None, help="With --stream: left context.")
@click.option("--right-ms", type=click.FloatRange(min=0), default=None, help="With --stream: right context.")
@click.option("--json", "as_json", is_flag=True, help="Print the transcripts as JSON.")
def transcribe(bundle: Path, audio: Path, artifacts: tuple[str, ...], threads: int | None, streamed: bool,
               chunk_ms: float | None, left_ms: float | None, right_ms: float | None, as_json: bool) -> None:
    """Phonemes of AUDIO from each artifact of BUNDLE (exported with --head), greedy CTC decoding.

    Each artifact runs in its own runtime; a static one takes long audio in windows of its length, like an
    app. Each int8 artifact's agreement with its fp32 sibling is 1 - edit distance / the fp32 transcript's
    length, over phonemes.

    \b
    Examples:
      fitedge transcribe bundle/ prompt.wav
      fitedge transcribe bundle/ prompt.wav --artifact student_int8.tflite --json
      fitedge transcribe bundle/ prompt.wav --stream --chunk-ms 640
    """
    from fitedge.bench.eval.transcribe import transcribe_bundle
    from fitedge.edge.stream.source import StreamSettings

    settings = StreamSettings(chunk_ms, left_ms, right_ms) if streamed else None
    results = transcribe_bundle(bundle, audio, artifacts, threads, settings)
    if as_json:
        click.echo(json.dumps({"audio": str(audio), "artifacts": [r.to_dict() for r in results]}, indent=2))
        return
    width = max(len(r.file) for r in results)
    for r in results:
        click.echo(f"{r.file:{width}s}  {' '.join(r.phonemes) or '(nothing)'}")
    for r in results:
        if r.agreement is not None:
            click.echo(f"{r.file}: agreement with {r.sibling} {100 * r.agreement:.1f}%")
