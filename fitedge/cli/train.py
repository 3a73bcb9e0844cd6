"""``fitedge distill`` (FitHuBERT / DistilHuBERT distillation) and ``fitedge pretrain`` (a small HuBERT teacher)."""

from __future__ import annotations

import functools
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import click

from fitedge.cli.params import Steps, config_option, field_default, write_params
from fitedge.distill.train.config import AMP_MODES, INT8_AWARE_FROM, OBJECTIVES, DistillConfig, PretrainConfig
from fitedge.errors import ConfigError

log = logging.getLogger(__name__)
_distill_default = functools.partial(field_default, DistillConfig)  # an option's default is the library's
_pretrain_default = functools.partial(field_default, PretrainConfig)


def _encoder_config(value: str):
    """A preset name or an encoder config JSON file."""
    from fitedge.distill.models.config import PRESETS, EncoderConfig, preset

    if value in PRESETS or not Path(value).is_file():
        return preset(value)
    return EncoderConfig.load(value)


def _split_items(data: str, split: str):
    """The audio of ``data`` (a corpus folder's ``split``, a .tsv, or a folder tree for ``train``)."""
    from fitedge.distill.data.corpus import is_corpus
    from fitedge.distill.data.datasets import list_audio

    if is_corpus(data):
        tsv = Path(data) / f"{split}.tsv"
        return list_audio(tsv) if tsv.is_file() else []
    return list_audio(data) if split == "train" else []


@click.command("distill")
@config_option
@click.option("--teacher", required=True, help="Teacher: a checkpoint (any format `fitedge import` reads) or preset.")
@click.option("--student", help="Student architecture: a preset (e.g. fithubert) or a config JSON. With --init-from: "
              "the checkpoint's weights in this architecture (same parameter names and shapes, e.g. fithubert -> "
              "fithubert-edge).")
@click.option("--init-from", type=click.Path(exists=True, file_okay=False),
              help="Start from a fitedge checkpoint (e.g. RUN_DIR/final, hint heads included) instead of fresh "
                   "weights.")
@click.option("--data", required=True, type=click.Path(exists=True), help="Training audio: corpus, .tsv or folder.")
@click.option("--valid", "valid_data", type=click.Path(exists=True),
              help="Validation audio (.tsv or folder); default: the corpus folder's valid split, if any.")
@click.option("--out", "run_dir", required=True, type=click.Path(file_okay=False), help="Run folder (logs, states).")
@click.option("--objective", type=click.Choice(OBJECTIVES), default=_distill_default("objective"), show_default=True,
              help="FitHuBERT hints on every layer, or DistilHuBERT's 3 heads on the last layer.")
@click.option("--layer-map", help="Student:teacher layer pairs, e.g. '1:3,2:6,3:9,4:12' (default: the objective's).")
@click.option("--steps", default=_distill_default("max_steps"), show_default=True, type=Steps(),
              help="Optimiser steps, or 'auto': schedule the learning rate over --minutes of training time.")
@click.option("--minutes", type=click.FloatRange(min=0), help="Stop (and save) after this much training time.")
@click.option("--batch-seconds", default=_distill_default("batch_seconds"),
              show_default=True, type=click.FloatRange(min=0.1),
              help="Audio per process per micro-batch, padding included.")
@click.option("--crop-seconds", default=_distill_default("crop_seconds"),
              show_default=True, type=click.FloatRange(min=0),
              help="Random crop of longer utterances (0: whole utterances).")
@click.option("--accum", default=_distill_default("accum_steps"), show_default=True, type=click.IntRange(min=1),
              help="Micro-batches per step.")
@click.option("--lr", default=_distill_default("lr"), show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Peak LR.")
@click.option("--amp", type=click.Choice(AMP_MODES), default=_distill_default("amp"), show_default=True,
              help="Mixed precision on GPU (ignored on CPU).")
@click.option("--nproc", default=1, show_default=True, type=click.IntRange(min=1),
              help="Processes (DDP): re-launches this command through torchrun.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--resume", is_flag=True, help="Continue from RUN_DIR/train_state.pt exactly where it stopped.")
@click.option("--save-every", default=_distill_default("save_every"), show_default=True, type=click.IntRange(min=1),
              help="Steps per state save.")
@click.option("--log-every", default=_distill_default("log_every"), show_default=True, type=click.IntRange(min=1),
              help="Steps per log line.")
@click.option("--valid-every", default=_distill_default("valid_every"), show_default=True, type=click.IntRange(min=1),
              help="Steps per validation.")
@click.option("--patience", default=_distill_default("patience"), show_default=True, type=click.IntRange(min=1),
              help="Validations without a better last-layer loss before stopping early.")
@click.option("--mask-padding/--no-mask-padding", default=_distill_default("mask_padding"), show_default=True,
              help="Leave padded frames out of the loss (the official code does not).")
@click.option("--seed", default=_distill_default("seed"), show_default=True, type=int)
@click.option("--workers", default=_distill_default("num_workers"), show_default=True, type=click.IntRange(min=0),
              help="DataLoader workers.")
@click.option("--threads", type=click.IntRange(min=1), help="CPU threads per process (default: torch's choice).")
@click.option("--int8-aware", is_flag=True,
              help="Train the last part of the schedule with fake int8, as the export's int8 recipes round. A "
                   "student with companded audio (mu_law in its config, the fithubert-int8 preset) then keeps "
                   "every block in int8.")
@click.option("--int8-aware-from", "int8_aware_start", default=INT8_AWARE_FROM, show_default=True,
              type=click.FloatRange(0, 1, max_open=True),
              help="Share of the schedule after which --int8-aware training begins.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def distill(ctx: click.Context, teacher: str, student: str | None, init_from: str | None, data: str,
            valid_data: str | None, run_dir: str,
            objective: str, layer_map: str | None, steps: int, minutes: float | None, batch_seconds: float,
            crop_seconds: float, accum: int, lr: float, amp: str, nproc: int, device: str, resume: bool,
            save_every: int, log_every: int, valid_every: int, patience: int, mask_padding: bool, seed: int,
            workers: int, threads: int | None, int8_aware: bool, int8_aware_start: float, as_json: bool) -> None:
    """Distil TEACHER into a fresh STUDENT on DATA, writing RUN_DIR/{log.jsonl, train_state.pt, final/}.

    RUN_DIR/final is a fitedge checkpoint (student backbone; hint heads in heads.safetensors) that
    `fitedge export` and `fitedge.load` accept. Ctrl-C saves the training state; --resume continues.

    \b
    Examples:
      fitedge distill --teacher hubert_base_ls960.pt --student fithubert --data LibriSpeech/train-clean-100 \\
          --out runs/fit --steps 200000 --nproc 2 --accum 4 --amp fp16
      fitedge distill --teacher runs/pre/teacher --student student.json --data corpus/ --out runs/d --minutes 15
      fitedge distill --teacher runs/pre/teacher --student fithubert-int8 --data corpus/ --out runs/d8 \\
          --minutes 6 --steps auto --int8-aware --int8-aware-from 0.67
      fitedge distill --teacher runs/pre/teacher --init-from runs/d/final --data corpus/ --out runs/d8b \\
          --minutes 5 --steps auto --int8-aware --int8-aware-from 0
    """
    if student is None and init_from is None:
        raise ConfigError("give --student (a fresh student), --init-from (a checkpoint to continue), or both "
                          "(the checkpoint's weights in --student's architecture)")
    if nproc > 1 and "LOCAL_RANK" not in os.environ:
        sys.exit(_relaunch_under_torchrun(ctx, nproc))
    import torch

    import fitedge
    from fitedge.distill.checkpoints.folder import read_checkpoint
    from fitedge.distill.models.encoder import build_encoder
    from fitedge.distill.models.pretrained import build_with_weights
    from fitedge.distill.train.distillation import distill as run_distill
    from fitedge.distill.train.distributed import setup_distributed, teardown_distributed
    from fitedge.distill.train.layer_map import parse_layer_map

    cfg = DistillConfig(objective=objective, layer_map=parse_layer_map(layer_map) if layer_map else None,
                        mask_padding=mask_padding, lr=lr, max_steps=steps or None, max_minutes=minutes,
                        batch_seconds=batch_seconds, crop_seconds=crop_seconds or None, accum_steps=accum, amp=amp,
                        save_every=save_every, log_every=log_every, valid_every=valid_every, patience=patience,
                        seed=seed, num_workers=workers, int8_aware_from=int8_aware_start if int8_aware else None)
    train = _split_items(data, "train")
    valid = _split_items(valid_data, "train") if valid_data else _split_items(data, "valid")
    teacher_model = fitedge.load(teacher)
    if not teacher_model.meta.get("trained", True):
        log.warning("teacher %s has random weights: fine for a benchmark, useless for a real student", teacher)
    if threads:
        torch.set_num_threads(threads)
    env = setup_distributed(device)
    torch.manual_seed(seed)  # the same --seed gives the same initial student (on every rank)
    if init_from:
        start = read_checkpoint(init_from)
        config = start.config if student is None else _encoder_config(student)
        source = init_from if student is None else f"--init-from {init_from} as --student {student}"
        student_model, init_heads = build_with_weights(config, start.state_dict, source), start.heads
    else:
        student_model, init_heads = build_encoder(_encoder_config(student)), None
    try:
        result = run_distill(teacher_model, student_model, train, valid, cfg, run_dir, env, resume=resume,
                             progress=env.is_main, init_heads=init_heads)
    finally:
        teardown_distributed(env)
    if not env.is_main:
        return
    summary = {"final": str(result.final_dir) if result.final_dir else None, "steps": result.steps,
               "stopped": result.stopped,
               "best_valid_last_layer": result.best_valid if result.best_valid != float("inf") else None,
               "skipped_audio": result.skipped_audio, "log": str(Path(run_dir) / "log.jsonl")}
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(f"stopped ({result.stopped}) after {result.steps} steps; {result.skipped_audio} audio file(s) skipped")
    click.echo(f"student: {result.final_dir}" if result.final_dir else f"resume with: --resume --out {run_dir}")


def _relaunch_under_torchrun(ctx: click.Context, nproc: int) -> int:
    """Run this same command in ``nproc`` processes via ``torch.distributed.run``; returns its exit status.

    The children get the parsed options as a ``--config`` file in the run folder, not re-spelled arguments.
    """
    run_dir = Path(ctx.params["run_dir"])
    run_dir.mkdir(parents=True, exist_ok=True)
    launch = write_params(ctx, run_dir / "launch.json", leave_out=("nproc",))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           "-m", "fitedge.cli", "distill", "--config", str(launch)]
    log.info("launching %s", " ".join(cmd))
    return subprocess.call(cmd)


@click.command("pretrain")
@config_option
@click.option("--data", required=True, type=click.Path(exists=True),
              help="Training audio: a corpus folder (its valid split and phonemes are used too), .tsv or folder.")
@click.option("--out", "run_dir", required=True, type=click.Path(file_okay=False), help="Run folder.")
@click.option("--encoder", "encoder_config", default="tiny", show_default=True,
              help="Teacher architecture: a preset or an encoder config JSON.")
@click.option("--units", default=_pretrain_default("num_units"), show_default=True, type=click.IntRange(min=2),
              help="k-means units on MFCC.")
@click.option("--steps", default=_pretrain_default("max_steps"), show_default=True, type=Steps(),
              help="Optimiser steps, or 'auto': schedule the learning rate over --minutes of training time.")
@click.option("--minutes", type=click.FloatRange(min=0), help="Stop (and save) after this much training time.")
@click.option("--batch-seconds", default=_pretrain_default("batch_seconds"),
              show_default=True, type=click.FloatRange(min=0.1))
@click.option("--crop-seconds", default=_pretrain_default("crop_seconds"),
              show_default=True, type=click.FloatRange(min=0.1))
@click.option("--lr", default=_pretrain_default("lr"), show_default=True, type=click.FloatRange(min=0, min_open=True))
@click.option("--unmasked-weight", default=_pretrain_default("unmasked_weight"),
              show_default=True, type=click.FloatRange(min=0),
              help="Loss weight of unmasked frames (fairseq's pred_nomask_weight; HuBERT: 0). A short CPU run "
                   "learns faster with some.")
@click.option("--ctc-weight", default=_pretrain_default("ctc_weight"), show_default=True, type=click.FloatRange(min=0),
              help="Weight of a CTC phoneme loss on DATA's labelled train split, added to masked prediction (a "
                   "linear head on the last layer, used only for training). Needs a corpus folder.")
@click.option("--seed", default=_pretrain_default("seed"), show_default=True, type=int)
@click.option("--threads", type=click.IntRange(min=1), help="CPU threads (default: torch's choice).")
@click.option("--purity/--no-purity", default=True, show_default=True,
              help="Score k-means purity/PNMI against the corpus phonemes (MFCC, random and trained encoder).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def pretrain(data: str, run_dir: str, encoder_config: str, units: int, steps: int, minutes: float | None,
             batch_seconds: float, crop_seconds: float, lr: float, unmasked_weight: float, ctc_weight: float,
             seed: int, threads: int | None, purity: bool, as_json: bool) -> None:
    """Pre-train a small HuBERT teacher (iteration 1: masked prediction of MFCC k-means units) on DATA.

    Writes RUN_DIR/teacher (a fitedge checkpoint for `fitedge distill --teacher`), the k-means centroids and
    RUN_DIR/pretrain_log.json. With --ctc-weight the teacher also learns DATA's phonemes (CTC), as HuBERT's
    fine-tuning does, so that a short pre-training gives phonetic layers worth distilling. Reports
    masked-prediction accuracy on the validation audio and, for a labelled corpus, how phonetic each layer is
    (purity.json).

    \b
    Example:
      fitedge data synth --out corpus --minutes 120
      fitedge pretrain --data corpus --out runs/pre --encoder teacher.json --minutes 25
    """
    import torch

    from fitedge.distill.data.corpus import is_corpus
    from fitedge.distill.train.phoneme_ctc import corpus_targets
    from fitedge.distill.train.pretraining import pretrain as run_pretrain

    if threads:
        torch.set_num_threads(threads)
    encoder = _encoder_config(encoder_config)
    cfg = PretrainConfig(num_units=units, max_steps=steps or None, max_minutes=minutes, batch_seconds=batch_seconds,
                         crop_seconds=crop_seconds, lr=lr, unmasked_weight=unmasked_weight, ctc_weight=ctc_weight,
                         seed=seed)
    if ctc_weight > 0 and not is_corpus(data):
        raise ConfigError(f"--ctc-weight needs a labelled corpus folder (fitedge data synth), not {data}")
    train, targets = corpus_targets(data) if ctc_weight > 0 else (_split_items(data, "train"), None)
    valid = _split_items(data, "valid") or train[:64]
    result = run_pretrain(encoder, cfg, train, valid, run_dir, progress=True, targets=targets)
    summary = {"teacher": str(result.out_dir), "steps": result.steps, "valid_masked_accuracy": result.masked_accuracy,
               "valid_unmasked_accuracy": result.unmasked_accuracy}
    if purity and is_corpus(data):
        summary["purity"] = _purity(data, encoder, result.out_dir, seed)
        (Path(run_dir) / "purity.json").write_text(json.dumps(summary["purity"], indent=1))
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(f"teacher: {result.out_dir} ({result.steps} steps)")
    click.echo(f"masked-prediction accuracy (valid): {result.masked_accuracy:.3f} masked, "
               f"{result.unmasked_accuracy:.3f} unmasked frames; chance {1 / units:.3f}")
    for name, scores in summary.get("purity", {}).items():
        click.echo(f"  {name:<18} cluster purity {scores['cluster_purity']:.3f}  phone purity "
                   f"{scores['phone_purity']:.3f}  PNMI {scores['pnmi']:.3f}")


def _purity(corpus: str, encoder_config, teacher_dir: Path, seed: int) -> dict:
    import torch

    import fitedge
    from fitedge.distill.models.encoder import build_encoder
    from fitedge.distill.train.purity import phonetic_report

    torch.manual_seed(seed)
    return phonetic_report(corpus, {"random": build_encoder(encoder_config), "teacher": fitedge.load(teacher_dir)})


@click.command("curves")
@click.argument("distill_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--pretrain", "pretrain_dir", type=click.Path(exists=True, file_okay=False),
              help="The teacher's pre-training run folder, drawn on the left.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="PNG file to write.")
def curves(distill_dir: str, pretrain_dir: str | None, out: str) -> None:
    """Draw the loss curves of the distillation run DISTILL_DIR (and of its teacher's pre-training) into OUT."""
    from fitedge.distill.train.curves import plot_curves

    click.echo(plot_curves(distill_dir, out, pretrain_dir))
