"""``fitedge transcribe``: phonemes of WAV files from every artifact of a bundle exported with a CTC head."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command()
@click.argument("bundle", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.argument("audios", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False))
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
@click.option("--fill-edges", is_flag=True,
              help="With --stream: windows hold only heard audio (the first waits for a whole window).")
@click.option("--json", "as_json", is_flag=True, help="Print the transcripts as JSON.")
def transcribe(bundle: Path, audios: tuple[Path, ...], artifacts: tuple[str, ...], threads: int | None,
               streamed: bool, chunk_ms: float | None, left_ms: float | None, right_ms: float | None,
               fill_edges: bool, as_json: bool) -> None:
    """Phonemes of each AUDIO file from each artifact of BUNDLE (exported with --head), greedy CTC decoding.

    Each artifact runs in its own runtime, loaded once; a static one takes long audio in windows of its length,
    like an app. Each int8 artifact's agreement with its fp32 sibling is 1 - edit distance / the fp32
    transcript's length, over phonemes; with several files, also pooled over all of them (edits summed over
    lengths summed), the number to judge int8 by.

    \b
    Examples:
      fitedge transcribe bundle/ prompt.wav
      fitedge transcribe bundle/ prompts/*.wav --json
      fitedge transcribe bundle/ prompt.wav --artifact student_int8.tflite
      fitedge transcribe bundle/ prompt.wav --stream --chunk-ms 640
    """
    from fitedge.bench.eval.transcribe import pooled_agreement, transcribe_files
    from fitedge.edge.stream.source import StreamSettings

    if fill_edges and not streamed:
        raise click.UsageError("--fill-edges goes with --stream")
    settings = StreamSettings(chunk_ms, left_ms, right_ms, fill_edges) if streamed else None
    files = transcribe_files(bundle, audios, artifacts, threads, settings)
    pooled = pooled_agreement(files)
    if as_json:
        click.echo(json.dumps({"files": [{"audio": str(audio), "artifacts": [r.to_dict() for r in results]}
                                         for audio, results in zip(audios, files)],
                               "agreement": pooled}, indent=2))
        return
    for audio, results in zip(audios, files):
        if len(audios) > 1:
            click.echo(f"{audio}:")
        width = max(len(r.file) for r in results)
        for r in results:
            click.echo(f"{r.file:{width}s}  {' '.join(r.phonemes) or '(nothing)'}")
        for r in results:
            if r.agreement is not None:
                click.echo(f"{r.file}: agreement with {r.sibling} {100 * r.agreement:.1f}%")
    if len(audios) > 1:
        for file, score in pooled.items():
            click.echo(f"{file}: agreement over all {len(audios)} files {100 * score:.1f}%")
