"""``fitedge eval per``: phoneme error rate of a model, an exported artifact, or the MFCC floor."""

from __future__ import annotations

from pathlib import Path

import click


@click.group(name="eval")
def eval_() -> None:
    """Task accuracy: how much phonetic information a model (or its deployed artifact) keeps."""


@eval_.command()
@click.argument("model_or_artifact")
@click.option("--data", "corpus", required=True, type=click.Path(path_type=Path, exists=True, file_okay=False),
              help="Labelled corpus folder (fitedge data synth / fitedge data asterisk).")
@click.option("--layer", default="last", show_default=True,
              help="last, a hidden-state index (0 = input of the first layer), or weighted (learned sum of all).")
@click.option("--probe", "kind", type=click.Choice(["linear", "mlp"]), default="linear", show_default=True,
              help="linear: SUPERB's PR probe; mlp: one hidden layer of --hidden units.")
@click.option("--hidden", default=256, show_default=True, help="MLP hidden units.")
@click.option("--epochs", default=30, show_default=True, help="Probe training epochs (best on valid kept).")
@click.option("--lr", default=1e-2, show_default=True, help="Probe learning rate (Adam).")
@click.option("--max-train", type=int, default=None, help="Use at most this many train utterances (seeded subset).")
@click.option("--max-test", type=int, default=None, help="Use at most this many test utterances (seeded subset).")
@click.option("--seed", default=0, show_default=True)
@click.option("--threads", type=int, default=None,
              help="Threads of the artifact's runtime and of PyTorch (eager model, probe).")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Also write per_report.json here.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--save-probe", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also save the trained probe as a CTC head (.safetensors: weights, tokens, layer) for "
                   "fitedge export --head.")
@click.option("--chunk-ms", default=None,
              help="Also decode the test split as a live stream emits it, at these chunks (comma-separated ms), "
                   "with the same probe, and report each one's PER change against the full utterance.")
@click.option("--left-ms", default=None, help="With --chunk-ms: left contexts, comma-separated ms (default 1280; a "
                                              "chunked-attention model or a streaming bundle: its own).")
@click.option("--right-ms", default=None, help="With --chunk-ms: right contexts (lookahead), comma-separated ms "
                                               "(default 320; a chunked-attention model or streaming bundle: its own).")
@click.option("--fill-edges", is_flag=True,
              help="With --chunk-ms: windows hold only heard audio (the first waits for a whole window, the last "
                   "ends at the audio's end); what a model that attends to everything needs.")
def per(model_or_artifact: str, corpus: Path, layer: str, kind: str, hidden: int, epochs: int, lr: float,
        max_train: int | None, max_test: int | None, seed: int, threads: int | None, out: Path | None,
        as_json: bool, save_probe: Path | None = None, chunk_ms: str | None = None, left_ms: str | None = None,
        right_ms: str | None = None, fill_edges: bool = False) -> None:
    """Phoneme error rate of MODEL_OR_ARTIFACT with a CTC probe on its frozen features.

    MODEL_OR_ARTIFACT is `mfcc` (the floor every model must beat), an exported .pte/.tflite/.onnx (run in
    its own runtime, so int8 is judged as deployed; a static-length artifact gets long audio in windows
    and short audio zero-padded, like an app), or any model `fitedge.load` reads. The probe trains on the
    train split, picks its best epoch on valid, and is scored on test (voices/speakers unseen in training);
    the PER comes with a 95% bootstrap interval over utterances.

    With --chunk-ms, the same probe (trained on full utterances, as a shipped head is) also decodes the test
    split streamed live at each chunk setting, and each row gives the streamed PER and its change against the
    full-utterance PER with a paired 95% interval.

    \b
    Examples:
      fitedge eval per mfcc --data corpus/synth
      fitedge eval per runs/teacher --data corpus/synth --layer weighted
      fitedge eval per bundle/student_int8.tflite --data corpus/asterisk --json
      fitedge eval per student/ --data corpus/synth --save-probe head.safetensors
      fitedge eval per student/ --data corpus/synth --chunk-ms 320,640 --left-ms 1280 --right-ms 320
    """
    from fitedge.bench.eval.features import parse_layer
    from fitedge.bench.eval.per import EvalSettings, evaluate_per
    from fitedge.bench.eval.probe import ProbeConfig

    probe = ProbeConfig(kind=kind, hidden=hidden, epochs=epochs, lr=lr, seed=seed)
    settings = EvalSettings(max_train=max_train, max_test=max_test, seed=seed)
    if fill_edges and chunk_ms is None:
        raise click.UsageError("--fill-edges goes with --chunk-ms")
    stream = _stream_settings(model_or_artifact, chunk_ms, left_ms, right_ms, fill_edges)
    report = evaluate_per(model_or_artifact, corpus, parse_layer(layer), probe, settings, threads, progress=True,
                          save_probe=save_probe, stream=stream)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / ".per_report.json.tmp"
        tmp.write_text(report.to_json() + "\n")
        tmp.replace(out / "per_report.json")
    if as_json or not report.streamed:
        click.echo(report.to_json() if as_json else report.summary())
    else:
        from fitedge.bench.eval.streamed import StreamedPer, format_streamed

        rows = [StreamedPer(**{**r, "increase_ci_points": tuple(r["increase_ci_points"])}) for r in report.streamed]
        click.echo(f"{report.model} on {report.utterances} test utterances of {report.corpus}\n"
                   + format_streamed(report, rows))


def _stream_settings(source: str, chunk_ms: str | None, left_ms: str | None, right_ms: str | None,
                     fill_edges: bool = False) -> list:
    """The chunk settings of --chunk-ms x --left-ms x --right-ms (defaults: the model's or bundle's own)."""
    if chunk_ms is None:
        if left_ms is not None or right_ms is not None:
            raise click.UsageError("--left-ms and --right-ms go with --chunk-ms")
        return []
    from fitedge.bench.host.streaming import settings_grid
    from fitedge.cli.stream import milliseconds
    from fitedge.edge.stream.source import bundle_default_ms

    own = bundle_default_ms(Path(source).parent if Path(source).is_file() else source)
    return settings_grid(milliseconds("--chunk-ms", chunk_ms),
                         milliseconds("--left-ms", left_ms) if left_ms else (own[1],),
                         milliseconds("--right-ms", right_ms) if right_ms else (own[2],), fill_edges)
