"""``fitedge env`` reports the machine and the runtimes; a missing plotter costs the benchmark its plots only."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner

from fitedge.bench.report import plots
from fitedge.cli import cli
from fitedge.host import describe_cpu


def test_env_names_the_cpu_class_and_the_runtime_versions() -> None:
    result = CliRunner().invoke(cli, ["env", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["cpu"] == describe_cpu()
    assert doc["versions"]["onnxruntime"] == metadata.version("onnxruntime")
    text = CliRunner().invoke(cli, ["env"]).output
    assert f"class:    {describe_cpu()['class']}" in text


def test_without_matplotlib_there_are_no_plots_and_a_notice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    def missing():
        raise ImportError("No module named 'matplotlib'")

    monkeypatch.setattr(plots, "_pyplot", missing)
    assert plots.write_plots({"runs": [], "scaling": {"length": []}}, tmp_path) == []
    assert "no plots: matplotlib is not installed" in caplog.text
