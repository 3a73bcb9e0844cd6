"""What a user sees: fitedge's own lines only, unless -v; nothing but errors with -q.

Runs the real console script in a subprocess, because the runtimes' noise is written by native code to
file descriptor 2 (and by ExecuTorch's bindings to Python's stderr), which click's in-process runner never sees.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers import FITEDGE

EXPORT = ["export", "tiny", "--precision", "fp32", "--seconds", "1", "--timing-runs", "0"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*FITEDGE, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("cli_output")
    flags = {"default": ["--targets", "pte,tflite"], "quiet": ["--targets", "pte", "-q"],
             "verbose": ["--targets", "pte", "-v"]}
    return {name: run(*EXPORT, "--out", str(root / name), *extra) for name, extra in flags.items()}


def test_default_output_is_fitedge_lines_only(outputs: dict) -> None:
    proc = outputs["default"]
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("model tiny: ")
    # every other line is an artifact's progress line
    assert all(line.startswith(("tiny_fp32.pte: ", "tiny_fp32.tflite: ")) for line in lines[1:]), lines
    assert proc.stdout.startswith("# fitedge bundle: tiny")


def test_quiet_prints_no_progress_and_verbose_shows_the_runtimes(outputs: dict) -> None:
    assert outputs["quiet"].returncode == 0 and outputs["quiet"].stderr == ""
    assert outputs["quiet"].stdout.startswith("# fitedge bundle: tiny")
    verbose = outputs["verbose"]
    assert verbose.returncode == 0 and "cpuinfo" in verbose.stderr  # ExecuTorch's threadpool start


def test_a_failure_is_one_line_even_after_subcommand_flags(tmp_path: Path) -> None:
    proc = run("verify", str(tmp_path), "-q")
    assert proc.returncode == 1 and proc.stderr.strip().splitlines() == [
        f"Error: {tmp_path}: not a fitedge bundle (no manifest.json)"]

