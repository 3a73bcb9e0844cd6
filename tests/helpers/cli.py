"""Shared pieces of the export tests: run the CLI in-process, write speech, make tiny checkpoints."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import torch
from click.testing import CliRunner, Result

from fitedge.distill.checkpoints.folder import save_checkpoint
from fitedge.distill.data.audio import write_audio
from fitedge.distill.models.config import preset
from fitedge.distill.models.encoder import build_encoder
from fitedge.edge.cli import cli


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def assert_one_line_error(result: Result, *needles: str) -> str:
    """The command failed with exit 1 and one ``Error:`` line naming the cause, no traceback."""
    text = result.output  # click >= 8.2: stdout and stderr interleaved
    assert result.exit_code == 1, (result.exit_code, text)
    assert "Traceback" not in text
    errors = [line for line in text.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, text
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def no_leftovers(parent: Path, name: str) -> bool:
    """Neither the bundle nor a hidden partial folder of it exists under ``parent``."""
    return not (parent / name).exists() and not list(parent.glob(f".{name}.*"))


def write_speech(folder: Path, texts: tuple[str, ...], voice: str = "en-us") -> list[Path]:
    """espeak-ng utterances as 16 kHz wav files."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, text in enumerate(texts):
        raw = folder / f"raw{i}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(raw), text], check=True)
        from fitedge.distill.data.audio import read_audio

        wav = read_audio(raw)
        raw.unlink()
        write_audio(folder / f"utt{i}.wav", wav)
        paths.append(folder / f"utt{i}.wav")
    return paths


def tiny_checkpoint(folder: Path, time_reduction: str | None = None, heads: dict | None = None,
                    seed: int = 0) -> Path:
    torch.manual_seed(seed)
    config = preset("tiny").replace(time_reduction=time_reduction) if time_reduction else preset("tiny")
    encoder = build_encoder(config)
    return save_checkpoint(encoder, folder, heads=heads)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
