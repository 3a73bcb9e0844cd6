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
def per(model_or_artifact: str, corpus: Path, layer: str, kind: str, hidden: int, epochs: int, lr: float,
        max_train: int | None, max_test: int | None, seed: int, threads: int | None, out: Path | None,
        as_json: bool, save_probe: Path | None = None) -> None:
    """Phoneme error rate of MODEL_OR_ARTIFACT with a CTC probe on its frozen features.

    MODEL_OR_ARTIFACT is `mfcc` (the floor every model must beat), an exported .pte/.tflite/.onnx (run in
    its own runtime, so int8 is judged as deployed; a static-length artifact gets long audio in windows
    and short audio zero-padded, like an app), or any model `fitedge.load` reads. The probe trains on the
    train split, picks its best epoch on valid, and is scored on test (voices/speakers unseen in training);
    the PER comes with a 95% bootstrap interval over utterances.

    \b
    Examples:
      fitedge eval per mfcc --data corpus/synth
      fitedge eval per runs/teacher --data corpus/synth --layer weighted
      fitedge eval per bundle/student_int8.tflite --data corpus/asterisk --json
      fitedge eval per student/ --data corpus/synth --save-probe head.safetensors
    """
    from fitedge.bench.eval.features import parse_layer
    from fitedge.bench.eval.per import EvalSettings, evaluate_per
    from fitedge.bench.eval.probe import ProbeConfig

    probe = ProbeConfig(kind=kind, hidden=hidden, epochs=epochs, lr=lr, seed=seed)
    settings = EvalSettings(max_train=max_train, max_test=max_test, seed=seed)
    report = evaluate_per(model_or_artifact, corpus, parse_layer(layer), probe, settings, threads, progress=True,
                          save_probe=save_probe)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / ".per_report.json.tmp"
        tmp.write_text(report.to_json() + "\n")
        tmp.replace(out / "per_report.json")
    click.echo(report.to_json() if as_json else report.summary())
