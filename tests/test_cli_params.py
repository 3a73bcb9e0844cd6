"""``--config FILE`` as a command's defaults, ``--steps N|auto``, and the step budget that fits a time limit."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from fitedge.distill.train.schedule import PROBE_STEPS, StepBudget
from fitedge.edge.cli.params import Steps, config_option, write_params
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


def test_the_budget_fits_the_remaining_time_at_the_measured_rate() -> None:
    budget = StepBudget(None, max_minutes=10)
    assert not budget.due(PROBE_STEPS - 1) and budget.schedule_total > 10**8  # near-zero lr while probing
    assert budget.due(PROBE_STEPS)
    total = budget.fit(PROBE_STEPS, elapsed_s=5.0)  # 2 steps/s, 595 s left, 5% margin
    assert total == PROBE_STEPS + int(2 * 595 * 0.95) and not budget.due(PROBE_STEPS + 1)
    assert StepBudget(500, None).schedule_total == 500
    with pytest.raises(ConfigError, match="--minutes"):
        StepBudget(None, None)
