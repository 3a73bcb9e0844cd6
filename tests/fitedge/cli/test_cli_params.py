"""``--config FILE`` as a command's defaults, ``--steps N|auto``, and the step budget that fits a time limit."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import click
import pytest
from click.testing import CliRunner

from fitedge.cli.params import Steps, config_option, write_params
from fitedge.distill.train.schedule import Schedule, lr_at
from fitedge.errors import ConfigError


@click.command()
@config_option
@click.option("--steps", type=Steps(), default="100")
@click.option("--batch-seconds", type=float, default=16.0)
@click.option("--out", required=True)
@click.pass_context
def command(ctx: click.Context, steps: int, batch_seconds: float, out: str) -> None:
    click.echo(json.dumps({"steps": steps, "batch_seconds": batch_seconds, "out": out}))
    write_params(ctx, Path(out) / "params.json")


def run(*args: str) -> click.testing.Result:
    return CliRunner().invoke(command, list(args))


def test_a_config_file_fills_defaults_and_the_command_line_wins(tmp_path: Path) -> None:
    toml = tmp_path / "run.toml"
    toml.write_text(f'steps = "auto"\nbatch-seconds = 8.0\nout = "{tmp_path}"\n')
    result = run("--config", str(toml), "--batch-seconds", "4")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"steps": 0, "batch_seconds": 4.0, "out": str(tmp_path)}
    # what write_params saved runs the same command again
    again = run("--config", str(tmp_path / "params.json"))
    assert json.loads(again.output) == json.loads(result.output)


def test_bad_config_files_and_steps_are_one_line_usage_errors(tmp_path: Path) -> None:
    unknown = tmp_path / "c.json"
    unknown.write_text('{"stpes": 3}')
    assert run("--config", str(unknown), "--out", "x").exit_code == 2
    assert "unknown option(s) stpes" in run("--config", str(unknown), "--out", "x").output
    assert "neither a positive number" in run("--steps", "-3", "--out", "x").output


def test_auto_schedules_the_rate_over_the_minutes_whatever_the_speed() -> None:
    cfg = SimpleNamespace(lr=1e-3, warmup_ratio=0.05, max_steps=None)
    schedule = Schedule(cfg, max_minutes=10)
    assert schedule.by_time and schedule.lr(0, 0.0) == 0.0
    assert schedule.lr(5, 15.0) == pytest.approx(0.5e-3)  # half of the 30 s warm-up
    assert schedule.lr(7, 30.0) == pytest.approx(1e-3) and schedule.lr(10**6, 30.0) == pytest.approx(1e-3)
    assert schedule.lr(9, 315.0) == pytest.approx(0.5e-3)  # half way down the decay, at any step count
    assert not schedule.finished(10**6, 599.0) and schedule.finished(3, 600.0) and schedule.lr(3, 700.0) == 0.0
    by_steps = Schedule(SimpleNamespace(lr=1e-3, warmup_ratio=0.05, max_steps=100), None)
    assert not by_steps.by_time and by_steps.lr(50, 1e9) == lr_at(50, by_steps.cfg) and by_steps.finished(100, 0.0)
    with pytest.raises(ConfigError, match="--minutes"):
        Schedule(cfg, None)
