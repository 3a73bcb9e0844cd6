"""Two gloo processes (``fitedge distill --nproc 2`` through torchrun) train what one process trains."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import torch

from fitedge.distill.checkpoints.folder import read_checkpoint, save_checkpoint
from fitedge.distill.models.encoder import build_encoder
from fitedge.distill.train.run_log import read_log
from tests.helpers import FITEDGE
from tests.helpers.models import NO_DROPOUT, tiny_student, tiny_teacher
from tests.helpers.speech import write_speech


def _distill(tmp_path: Path, out: str, extra: list[str]) -> Path:
    args = [*FITEDGE, "distill", "--teacher", str(tmp_path / "teacher"),
            "--student", str(tmp_path / "student.json"), "--data", str(tmp_path / "speech"), "--out",
            str(tmp_path / out), "--steps", "4", "--crop-seconds", "0", "--lr", "2e-3", "--log-every", "1",
            "--threads", "1", "--seed", "5", *extra]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return tmp_path / out


@pytest.mark.slow
def test_two_process_ddp_matches_one_process_with_the_same_global_batch(tmp_path) -> None:
    # Equal-length utterances and no dropout: the two runs then differ only by floating-point summation order.
    write_speech(tmp_path / "speech", count=8, seconds=1.0)
    torch.manual_seed(0)
    save_checkpoint(build_encoder(tiny_teacher()), tmp_path / "teacher")
    tiny_student(**NO_DROPOUT).save(tmp_path / "student.json")

    one = _distill(tmp_path, "one", ["--batch-seconds", "4"])  # 4 utterances per step
    two = _distill(tmp_path, "two", ["--batch-seconds", "2", "--nproc", "2"])  # 2 per process, 4 per step

    a, b = read_checkpoint(one / "final"), read_checkpoint(two / "final")
    initial = build_encoder(tiny_student(**NO_DROPOUT)).state_dict()
    moved = 0
    for k, v in a.state_dict.items():
        torch.testing.assert_close(b.state_dict[k], v, rtol=1e-4, atol=1e-5, msg=lambda m, k=k: f"{k}: {m}")
        moved += not torch.equal(v, initial[k]) if initial[k].shape == v.shape else 0
    for k, v in a.heads.items():
        torch.testing.assert_close(b.heads[k], v, rtol=1e-4, atol=1e-5)
    assert moved > len(a.state_dict) // 2, "training barely changed the student; the comparison proves little"
    log_one = [r for r in read_log(one / "log.jsonl") if r["kind"] == "train"]
    log_two = [r for r in read_log(two / "log.jsonl") if r["kind"] == "train"]
    assert [r["audio_seconds"] for r in log_two] == [r["audio_seconds"] for r in log_one] == [4.0] * 4
    for r1, r2 in zip(log_one, log_two):
        assert abs(r1["loss"] - r2["loss"]) < 1e-4 * max(1.0, r1["loss"])
