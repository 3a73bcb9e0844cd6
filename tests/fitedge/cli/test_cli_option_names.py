"""One meaning per option name: ``bench --on`` (host or phone) is not ``distill --device`` (cpu or cuda), and the
old ``bench --device`` still works, hidden, with a one-line deprecation notice. Thread options default to the
runtime's own count except where a number is recorded per thread count."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from fitedge.cli import cli


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_bench_says_on_and_hides_the_old_device_spelling() -> None:
    text = invoke("bench", "run", "--help").output
    assert "--on host|android[:SERIAL]" in text and "--device " not in text
    assert "--device [auto|cpu|cuda]" in invoke("distill", "--help").output


def test_the_old_spelling_still_works_with_a_deprecation_notice(tmp_path: Path) -> None:
    no_adb = str(tmp_path / "no-adb")
    old = invoke("bench", "tiny", "--no-export", "--device", "android", "--adb", no_adb, "--out", str(tmp_path))
    new = invoke("bench", "tiny", "--no-export", "--on", "android", "--adb", no_adb, "--out", str(tmp_path))
    notice = [line for line in old.output.splitlines() if "deprecated" in line]
    assert notice == [line for line in notice if "--on android" in line] and len(notice) == 1
    # Past the notice, the same run: both reach adb and stop there.
    assert old.exit_code == new.exit_code == 1
    assert old.output.splitlines()[-1] == new.output.splitlines()[-1] and "adb not found" in new.output
    clash = invoke("bench", "tiny", "--no-export", "--device", "android", "--on", "host", "--out", str(tmp_path))
    assert clash.exit_code == 2 and "disagree" in clash.output


def test_thread_defaults_say_whose_they_are() -> None:
    assert "the runtime's own" in " ".join(invoke("verify", "--help").output.split())
    for command in (("export", "--help"), ("bench", "run", "--help")):
        text = " ".join(invoke(*command).output.split())
        assert "record" in text and "[default: 2" in text, command
