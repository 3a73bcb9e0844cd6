"""The end-to-end recipe (``make recipe``): corpus -> small teacher -> students -> six artifacts each -> PER.

Every training and export step runs the documented ``fitedge`` command in a child process, exactly as a
user would type it (the README shows the same commands), so the recipe adds no second code path and each
step's memory is returned when it ends. A step whose output already exists is not run again, so an
interrupted recipe continues where it stopped. A step that fails is recorded as "not available: why" and
the steps that need it are skipped; the report says so instead of showing numbers that were not measured.

Training runs take ``--steps auto``: each schedules its learning rate by training time, so warm-up and decay
complete within its minutes on a slow or busy machine as on a fast one; the report gives the steps each run
actually took.

The teacher learns masked prediction of MFCC units and, with a weight, the synthetic train split's phonemes
(CTC, as HuBERT's fine-tuning), so that 20 minutes give it phonetic layers worth distilling.

Each student is exported twice: with the defaults (``--int8 auto`` keeps float the blocks whose own int8 error
stands out) and with ``--int8 plain`` (every block in int8), so the table shows what auto int8 saves.

The two students have the same number of parameters, about 23.8% of the teacher's (FitHuBERT's ratio to
HuBERT Base): a FitHuBERT-shaped one (as deep as the teacher, 5/8 of its width with a feed-forward as wide as
the model, a thin convolutional front end, conv1d time reduction) and a DistilHuBERT-shaped one (the
teacher's front end and two layers with a 4x feed-forward). A third, the int8-aware FitHuBERT student, is
the first one with mu-law companded audio (``mu_law``: an 8-bit grid then keeps the quiet frames that it
rounds away in raw audio), distilled for the same minutes with fake int8 on for the last third
(``--int8-aware``), so its artifacts show what a student trained for int8 buys. A fourth, the FitHuBERT
student's streaming-friendly twin (chunked attention, causal positional conv, per-frame front end), is
distilled for the same minutes and judged streamed beside the FitHuBERT student: the streaming table gives
both students' PER streamed live against their own full-utterance PER (same probe), at the same algorithmic
latency.

The synthetic test split is sized on its own (``synth_test_minutes``: 950 utterances at seed 0), so that the
paired interval of an artifact's PER change against its float model is about +/-0.3 points; the report says
what size the measured intervals ask for.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fitedge.distill.models.config import preset

log = logging.getLogger(__name__)
Say = Callable[[str], None]

TEACHER = preset("tiny").replace(dim=256, layers=4, heads=4, ffn_dim=1024, dropout=0.0, attention_dropout=0.0,
                                 activation_dropout=0.0, feature_dropout=0.0)
# 0.817 M and 0.818 M parameters, 23.7% of the teacher's 3.45 M.
FITHUBERT_STUDENT = TEACHER.replace(
    conv_layers=((16, 10, 5), (32, 1, 1), (32, 3, 2), (32, 3, 2), (32, 3, 2), (32, 3, 2), (64, 1, 1), (64, 2, 2),
                 (64, 2, 2)),
    dim=160, ffn_dim=160, time_reduction="conv1d", time_reduction_factor=2)
DISTILHUBERT_STUDENT = TEACHER.replace(dim=168, layers=2, ffn_dim=672)
# The streaming-friendly twin of the FitHuBERT student: a per-frame front end, a causal positional conv, and
# attention in 320 ms chunks (8 frames of 40 ms) with 320 ms of left context per layer.
FITHUBERT_STREAM_STUDENT = FITHUBERT_STUDENT.replace(extractor_mode="frame_layer_norm", conv_activation="relu",
                                                     pos_conv_causal=True, attention_chunk_frames=8,
                                                     attention_left_frames=8)
# The int8 twin: companded audio, so that the first conv's 8-bit input keeps the quiet frames (see mu_law).
FITHUBERT_INT8_STUDENT = FITHUBERT_STUDENT.replace(mu_law=255.0)


@dataclass(frozen=True)
class RecipeConfig:
    """Sizes and time budgets of the recipe; the defaults train for 44 minutes on 2 CPU cores (scoring takes longer)."""

    work: str = "runs/recipe"
    synth_minutes: float = 90.0
    synth_test_minutes: float = 50.0  # 950 utterances at seed 0: paired int8-vs-float intervals of about +/-0.3
    pretrain_minutes: float = 20.0
    teacher_ctc_weight: float = 1.0  # the teacher's CTC phoneme loss on the synthetic train split (0: HuBERT's)
    distill_minutes: float = 6.0
    int8_aware_from: float = 0.67  # the int8-aware student trains with fake int8 after this share of its minutes
    probe_epochs: int = 40
    max_train: int = 600
    max_test: int | None = None  # every test utterance of both corpora
    threads: int = 2
    seed: int = 0


# A smoke run of every step in a few minutes: checks the plumbing, measures nothing worth reporting.
QUICK = RecipeConfig(synth_minutes=3.0, synth_test_minutes=0.5, pretrain_minutes=0.5, distill_minutes=0.3,
                     probe_epochs=5, max_train=40, max_test=20)


@dataclass
class StepLog:
    """What happened to each step: seconds taken, done by an earlier run (cached), or why it is not available.

    ``times``: a JSON file of the seconds each step took when it last ran, kept in the work folder, so that a
    report from a run that reused earlier steps still says what they cost (``None`` in ``cached`` when unknown).
    """

    done: dict[str, float] = field(default_factory=dict)
    cached: dict[str, float | None] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    times: Path | None = None

    def ok(self, name: str) -> bool:
        return name in self.done or name in self.cached

    def ran(self, name: str, seconds: float) -> None:
        self.done[name] = seconds
        if self.times is not None:
            recorded = {**self._recorded(), name: seconds}
            temporary = self.times.with_name(self.times.name + ".tmp")
            temporary.write_text(json.dumps(recorded, indent=1))
            temporary.replace(self.times)

    def reused(self, name: str) -> None:
        self.cached[name] = self._recorded().get(name)

    def _recorded(self) -> dict[str, float]:
        try:
            return json.loads(self.times.read_text()) if self.times is not None else {}
        except (OSError, ValueError):
            return {}  # none yet, or written by hand: the steps it lacks read "cached"


class Paths:
    """Where each step of the recipe writes, under one work folder."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.synth, self.asterisk = work / "corpus_synth", work / "corpus_asterisk"
        self.pretrain, self.configs = work / "pretrain", work / "configs"
        self.teacher = self.pretrain / "teacher"
        self.bench, self.per, self.report = work / "bench", work / "per", work / "report"
        self.step_times = work / "steps.json"

    def distill_run(self, name: str) -> Path:
        return self.work / f"distill_{name}"

    def student(self, name: str) -> Path:
        """The student with the best validation loss, else the last one (a run too short to validate)."""
        best = self.distill_run(name) / "best"
        return best if (best / "config.json").is_file() else self.distill_run(name) / "final"

    def bundle(self, name: str) -> Path:
        return self.work / "bundles" / name


STREAM_STUDENT = "fithubert-stream"
INT8_AWARE = "fithubert-int8aware"  # the FitHuBERT student's int8 twin, distilled int8-aware
STUDENTS = {"fithubert": (FITHUBERT_STUDENT, "fithubert"), "distilhubert": (DISTILHUBERT_STUDENT, "distilhubert"),
            INT8_AWARE: (FITHUBERT_INT8_STUDENT, "fithubert"), STREAM_STUDENT: (FITHUBERT_STREAM_STUDENT, "fithubert")}
TRAINED_STUDENTS = ("fithubert", "distilhubert", INT8_AWARE)  # exported, benchmarked, judged artifact by artifact
LABELS = {"fithubert": "FitHuBERT student", "distilhubert": "DistilHuBERT student",
          INT8_AWARE: "FitHuBERT int8-aware student", STREAM_STUDENT: "FitHuBERT streaming student"}
# The streaming table's chunk settings (chunk, left, right ms, fill_edges): both students at the same algorithmic
# latency (320 ms chunks, no lookahead: the streaming student's own), and 640 ms chunks with 320 ms of lookahead,
# zero-padded and filled (the first frame waits for a whole window; what the FitHuBERT student's full attention needs).
STREAM_SETTINGS = ((320.0, 1280.0, 0.0, False), (640.0, 1280.0, 320.0, False), (640.0, 1280.0, 320.0, True))
PLAIN = "+plain"  # suffix of a student's bundle exported with --int8 plain (the default is auto)


def run_recipe(config: RecipeConfig = RecipeConfig(), say: Say = print) -> Path:
    """Run every step (skipping those already done) and write the report; returns ``report.md``'s path."""
    from fitedge.bench.endtoend.evaluation import evaluate_all, evaluate_streaming
    from fitedge.bench.endtoend.report import write_recipe_report

    p = Paths(Path(config.work).absolute())
    p.configs.mkdir(parents=True, exist_ok=True)
    steps = StepLog(times=p.step_times)
    start = time.monotonic()
    _cmd(steps, say, "synth corpus", p.synth / "corpus.json",
         ["data", "synth", "--out", p.synth, "--minutes", config.synth_minutes, "--test-minutes",
          config.synth_test_minutes, "--seed", config.seed])
    _cmd(steps, say, "asterisk corpus", p.asterisk / "corpus.json", ["data", "asterisk", "--out", p.asterisk])
    TEACHER.save(p.configs / "teacher.json")
    # 6 s crops keep the synthetic utterances whole (1.7-5.6 s in a 20-minute corpus): only whole ones get a CTC target.
    _cmd(steps, say, "pretrain teacher", p.teacher / "config.json",
         ["pretrain", "--data", p.synth, "--out", p.pretrain, "--encoder", p.configs / "teacher.json",
          "--minutes", config.pretrain_minutes, "--units", 100, "--batch-seconds", 16, "--unmasked-weight", 1,
          "--steps", "auto",
          "--crop-seconds", 6, "--lr", 1e-3, "--no-purity", "--threads", config.threads,
          "--ctc-weight", config.teacher_ctc_weight, "--seed", config.seed], needs=["synth corpus"])
    for name in TRAINED_STUDENTS:
        _distill(steps, say, p, name, config)
        _cmd(steps, say, f"export {name}", p.bundle(name) / "manifest.json",
             ["export", p.student(name), "--out", p.bundle(name), "--calib", p.synth, "--threads", config.threads,
              "--allow-degraded", "--force"], needs=[f"distill {name}"])
        # One results.json per bundle: both bundles' artifacts are named after their checkpoint folder.
        _cmd(steps, say, f"benchmark {name}", p.bench / name / "results.json",
             ["bench", "run", p.bundle(name), "--seconds", "4", "--threads", config.threads, "--warmup", "2",
              "--iters", "10", "--out", p.bench / name], needs=[f"export {name}"])
        _plain_int8(steps, say, p, name, config)
    _distill(steps, say, p, STREAM_STUDENT, config)
    rows = evaluate_all(config, p, steps, say)
    streaming = evaluate_streaming(config, p, steps, say)
    steps.done["recipe, all steps"] = round(time.monotonic() - start, 1)
    report = write_recipe_report(p.report, rows, steps, asdict(config), training_runs(p), streaming)
    say(f"report: {report}")
    return report


def _distill(steps: StepLog, say: Say, p: Paths, name: str, config: RecipeConfig) -> None:
    """Distil one student from the teacher, for the same minutes as every other; the int8-aware one with fake int8
    on for the last part."""
    student, objective = STUDENTS[name]
    student.save(p.configs / f"{name}.json")
    args = ["--teacher", p.teacher, "--data", p.synth, "--out", p.distill_run(name), "--batch-seconds", 16,
            "--crop-seconds", 4, "--steps", "auto", "--threads", config.threads, "--seed", config.seed,
            "--student", p.configs / f"{name}.json", "--objective", objective, "--minutes", config.distill_minutes]
    if name == INT8_AWARE:
        args += ["--int8-aware", "--int8-aware-from", config.int8_aware_from]
    _cmd(steps, say, f"distill {name}", p.distill_run(name) / "final" / "config.json", ["distill", *args],
         needs=["pretrain teacher"])


def _plain_int8(steps: StepLog, say: Say, p: Paths, name: str, config: RecipeConfig) -> None:
    """The student's int8 artifacts with every block in int8 (``--int8 plain``), to show what auto int8 saves."""
    plain = f"{name}{PLAIN}"
    _cmd(steps, say, f"export {plain}", p.bundle(plain) / "manifest.json",
         ["export", p.student(name), "--out", p.bundle(plain), "--precision", "int8", "--int8", "plain", "--calib",
          p.synth, "--threads", config.threads, "--allow-degraded", "--force"], needs=[f"distill {name}"])
    _cmd(steps, say, f"benchmark {plain}", p.bench / plain / "results.json",
         ["bench", "run", p.bundle(plain), "--seconds", "4", "--threads", config.threads, "--warmup", "2",
          "--iters", "10", "--out", p.bench / plain], needs=[f"export {plain}"])


def training_runs(p: Paths) -> dict[str, str]:
    """For each trained model, the steps it ran and what its schedule spanned, from its checkpoint."""
    runs = {"teacher": (p.teacher, "pretrain")}
    # The run's last checkpoint records its schedule and steps; "best" records only the step it was saved at.
    runs.update({LABELS[n]: (p.distill_run(n) / "final", "distill") for n in (*TRAINED_STUDENTS, STREAM_STUDENT)})
    lines = {}
    for name, (folder, kind) in runs.items():
        config = folder / "config.json"
        if not config.is_file():
            continue
        meta = json.loads(config.read_text()).get(kind, {})
        settings = meta.get("distill", meta)
        scheduled = (f"of {settings['max_steps']} scheduled steps" if settings.get("max_steps") else
                     f"steps, learning rate scheduled over {settings.get('max_minutes')} minutes")
        if settings.get("int8_aware_from") is not None:
            scheduled += f", fake int8 from {settings['int8_aware_from']:.0%} of it"
        lines[name] = f"{meta.get('steps')} {scheduled}" + (f" (stopped: {meta['stopped']})" if meta.get("stopped")
                                                             else "")
    return lines


def _cmd(steps: StepLog, say: Say, name: str, marker: Path, args: list, needs: tuple | list = ()) -> None:
    """Run ``fitedge ARGS`` unless ``marker`` exists; record the outcome under ``name``."""
    if marker.exists():
        say(f"[{name}] already done ({marker})")
        steps.reused(name)
        return
    missing = [n for n in needs if not steps.ok(n)]
    if missing:
        steps.missing[name] = f"needs {', '.join(missing)}"
        say(f"[{name}] skipped: needs {', '.join(missing)}")
        return
    command = [sys.executable, "-m", "fitedge.cli", *map(str, args)]
    say(f"[{name}] fitedge {' '.join(map(str, args))}")
    start = time.monotonic()
    returncode, tail = _run_streaming(command)
    if returncode != 0:
        errors = [line.strip() for line in tail.replace("\r", "\n").splitlines() if line.strip()]
        steps.missing[name] = errors[-1] if errors else f"exit status {returncode}"
        say(f"[{name}] FAILED: {steps.missing[name]}")
        return
    steps.ran(name, round(time.monotonic() - start, 1))
    say(f"[{name}] done in {steps.done[name]:.0f} s")


def _run_streaming(command: list[str]) -> tuple[int, str]:
    """Run ``command`` with its stderr (progress bars, log lines) passed through live; keep the tail for errors."""
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    assert process.stderr is not None
    tail = b""
    while chunk := process.stderr.read1(4096):
        sys.stderr.buffer.write(chunk)
        sys.stderr.flush()
        tail = (tail + chunk)[-4000:]
    return process.wait(), tail.decode(errors="replace")


def parse_args(argv: list[str] | None = None) -> RecipeConfig:
    """The recipe's command line: an optional work folder and ``--quick``; anything else is refused."""
    parser = argparse.ArgumentParser(
        prog="python -m fitedge.bench.endtoend.pipeline",
        description="The end-to-end recipe (make recipe): corpus, teacher, four students (three exported to six "
                    "artifacts each, one streamed), PER. "
                    "Steps whose output exists are not run again, so an interrupted recipe continues.")
    parser.add_argument("work", nargs="?", default=RecipeConfig.work,
                        help="folder for every step's output (default: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="every step in a few minutes, to check the plumbing; its numbers mean nothing")
    args = parser.parse_args(argv)
    return dataclasses.replace(QUICK if args.quick else RecipeConfig(), work=args.work)


def main() -> None:
    """``python -m fitedge.bench.endtoend.pipeline [WORK_DIR] [--quick]``: the Makefile's ``recipe`` target."""
    logging.basicConfig(level=logging.WARNING)
    run_recipe(parse_args(), say=lambda line: print(line, flush=True))


if __name__ == "__main__":
    main()
