"""The ``fitedge`` command line in-process, and what a failed command must (not) leave behind."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from fitedge.cli import cli


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
