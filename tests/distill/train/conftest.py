"""Fixtures of the training tests: a few seconds of espeak-ng speech and a tiny teacher checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from fitedge.distill.checkpoints.folder import save_checkpoint
from fitedge.distill.models.encoder import build_encoder
from tests.helpers.models import tiny_teacher
from tests.helpers.speech import write_speech


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("speech")
    write_speech(folder, count=8, seconds=1.0)
    return folder


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    return save_checkpoint(build_encoder(tiny_teacher()), tmp_path_factory.mktemp("teacher") / "teacher")
