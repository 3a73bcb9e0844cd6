"""The distillation trainer end to end on real espeak-ng speech with tiny models: learning, resume, data errors."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import fitedge
from fitedge.cli import cli
from fitedge.distill.checkpoints.folder import read_checkpoint
from fitedge.distill.data.datasets import list_audio
from fitedge.distill.models.encoder import build_encoder
from fitedge.distill.models.heads import StudentWithHeads, build_heads
from fitedge.distill.train.distillation import DistillConfig, distill
from fitedge.distill.train.distributed import DistEnv
from fitedge.distill.train.layer_map import hint_layer_map
from fitedge.distill.train.losses import hint_loss
from fitedge.distill.train.run_log import RunLog, read_log
from fitedge.distill.train.train_state import STATE_FILE, Position
from fitedge.distill.train.validation import validate_and_decide
from tests.helpers import FITEDGE
from tests.helpers.models import tiny_student


def _run(teacher_dir: Path, speech: Path, out: Path, **cfg) -> tuple:
    torch.manual_seed(0)
    student = build_encoder(tiny_student())
    config = DistillConfig(**{"batch_seconds": 4.0, "crop_seconds": None, "lr": 2e-3, "log_every": 1, **cfg})
    result = distill(fitedge.load(teacher_dir), student, list_audio(speech), [], config, out, DistEnv())
    return result, student


def test_loss_falls_clearly_within_a_few_dozen_steps(teacher_dir, speech, tmp_path) -> None:
    result, _ = _run(teacher_dir, speech, tmp_path / "run", max_steps=30)
    losses = [r["loss"] for r in read_log(tmp_path / "run" / "log.jsonl") if r["kind"] == "train"]
    assert len(losses) == 30 and result.stopped == "max_steps"
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.5 * first, f"loss went from {first:.3f} to {last:.3f}"
    drawn = CliRunner().invoke(cli, ["curves", str(tmp_path / "run"), "--out", str(tmp_path / "curves.png")])
    assert drawn.exit_code == 0, drawn.output
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_steps_auto_completes_its_schedule_within_the_minutes(teacher_dir, speech, tmp_path) -> None:
    result, _ = _run(teacher_dir, speech, tmp_path / "run", max_steps=None, max_minutes=0.15)
    rates = [r["lr"] for r in read_log(tmp_path / "run" / "log.jsonl") if r["kind"] == "train"]
    assert result.steps == len(rates) > 5
    assert max(rates) > 0.5 * 2e-3 and rates[-1] < 0.2 * 2e-3  # warmed up to the peak, then decayed by the limit
    meta = read_checkpoint(result.final_dir).meta["distill"]
    assert meta["steps"] == result.steps and meta["distill"]["max_steps"] is None


def test_final_folder_is_a_fitedge_checkpoint_with_heads(teacher_dir, speech, tmp_path) -> None:
    result, student = _run(teacher_dir, speech, tmp_path / "run", max_steps=2, objective="distilhubert")
    loaded = fitedge.load(result.final_dir)
    assert loaded.meta["trained"] is True
    for k, v in student.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    ckpt = read_checkpoint(result.final_dir)
    # DistilHuBERT's heads at 1/3, 2/3 and 3/3 of a 2-layer teacher: layers 1 and 2, both from the last student layer.
    assert ckpt.meta["distill"]["layer_map"] == [[2, 1], [2, 2]]
    assert sorted({k.split(".")[1] for k in ckpt.heads}) == ["0", "1"]
    assert ckpt.meta["distill"]["distill"]["objective"] == "distilhubert"


def test_corrupt_audio_is_skipped_and_counted(teacher_dir, speech, tmp_path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for wav in speech.glob("*.wav"):
        (data / wav.name).write_bytes(wav.read_bytes())
    (data / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot audio at all")
    result, _ = _run(teacher_dir, data, tmp_path / "run", max_steps=4)
    assert result.skipped_audio == 1
    assert result.steps == 4


STEPS = 6


@pytest.fixture(autouse=True)
def one_thread():
    # Tiny models on a shared 2-core machine: one thread per process avoids oversubscription stalls.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_early_stopping_after_patience_validations_without_improvement(teacher_dir, speech, tmp_path) -> None:
    teacher = fitedge.load(teacher_dir).eval()
    student = build_encoder(tiny_student())
    model = StudentWithHeads(student, build_heads(student, teacher.config.dim, hint_layer_map(2, 2)))

    def losses(wav, lengths, net):
        with torch.no_grad():
            states = teacher(wav, lengths).hidden_states
        return hint_loss(net(wav, lengths)[0], [states[1], states[2]], None)

    cfg = DistillConfig(patience=2, crop_seconds=None)
    pos, log = Position(best_valid=float("inf")), RunLog(tmp_path / "log.jsonl", True)
    args = (model, losses, list_audio(speech)[:2], cfg, DistEnv(), pos, log, tmp_path)
    assert validate_and_decide(*args) == "max_steps" and pos.bad_validations == 0  # first: best so far
    assert (tmp_path / "best").is_dir()
    pos.best_valid = 0.0  # nothing beats a perfect score
    assert validate_and_decide(*args) == "max_steps" and pos.bad_validations == 1
    assert validate_and_decide(*args) == "early_stopping" and pos.bad_validations == 2
    records = read_log(tmp_path / "log.jsonl")
    assert [r["kind"] for r in records] == ["valid"] * 3 and len(records[0]["layers"]) == 2


def _cli_args(teacher_dir: Path, speech: Path, out: Path, student: Path) -> list[str]:
    return ["distill", "--teacher", str(teacher_dir), "--student", str(student), "--data", str(speech),
            "--out", str(out), "--steps", str(STEPS), "--batch-seconds", "2", "--crop-seconds", "0.75", "--lr", "2e-3",
            "--save-every", "2", "--log-every", "1", "--seed", "3"]


def _fitedge(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([*FITEDGE, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, f"the run ended before {path.name} appeared: {proc.stderr.read()}"
        assert time.monotonic() < deadline, f"no {path.name} after {timeout} s"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def student_json(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("student") / "student.json"
    tiny_student().save(path)  # with dropout: the RNG state must be restored too
    return path


@pytest.fixture(scope="module")
def uninterrupted(teacher_dir, speech, student_json, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("whole") / "run"
    proc = _fitedge(_cli_args(teacher_dir, speech, out, student_json))
    assert proc.wait(180) == 0, proc.stderr.read()
    return out / "final"


@pytest.mark.slow
@pytest.mark.parametrize("kill", [signal.SIGKILL, signal.SIGTERM], ids=["crash", "sigterm"])
def test_a_killed_run_resumes_to_the_same_weights_as_an_uninterrupted_one(teacher_dir, speech, student_json,
                                                                          uninterrupted, tmp_path, kill) -> None:
    out = tmp_path / "broken"
    broken = _fitedge(_cli_args(teacher_dir, speech, out, student_json))
    _wait_for(out / STATE_FILE, broken)
    broken.send_signal(kill)
    code = broken.wait(60)
    if kill == signal.SIGTERM:
        assert code == 0, broken.stderr.read()  # saved its state and left cleanly
        assert not (out / "final").exists()
    state = torch.load(out / STATE_FILE, weights_only=True)
    assert state["position"]["step"] < STEPS, "the run finished before it was killed; the test proves nothing"
    resumed = _fitedge([*_cli_args(teacher_dir, speech, out, student_json), "--resume"])
    assert resumed.wait(180) == 0, resumed.stderr.read()
    a, b = read_checkpoint(uninterrupted), read_checkpoint(out / "final")
    for k in a.state_dict:
        assert torch.equal(a.state_dict[k], b.state_dict[k]), k
    for k in a.heads:
        assert torch.equal(a.heads[k], b.heads[k]), k


def test_cli_reports_bad_input_in_one_line(teacher_dir, speech, tmp_path) -> None:
    result = CliRunner().invoke(cli, ["distill", "--teacher", str(teacher_dir), "--student", "no-such-preset",
                                      "--data", str(speech), "--out", str(tmp_path / "run")])
    assert result.exit_code == 1
    assert "unknown preset 'no-such-preset'" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["distill", "--teacher", str(teacher_dir), "--student", "tiny", "--data",
                                      str(speech), "--out", str(tmp_path / "run"), "--layer-map", "9:9"])
    assert result.exit_code == 1 and "out of range" in result.output
    assert not (tmp_path / "run" / "final").exists()
