"""``--on android``: the real adb binary, and the one-line errors a user gets before any phone runs."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from fitedge.bench.device.android import choose_device, connect, parse_device
from fitedge.errors import DeviceError

ADB = shutil.which("adb")


@pytest.fixture
def adb_server():
    """Leave no adb server behind that this test started."""
    if ADB is None:  # fail, not skip: `make test` installs adb, so its absence is a broken set-up
        pytest.fail("the Debian package adb is not installed (run make system)")
    yield ADB
    subprocess.run([ADB, "kill-server"], capture_output=True, timeout=30)


def test_real_adb_with_no_phone_says_no_device(adb_server):
    with pytest.raises(DeviceError, match="^no Android device found by adb: connect a phone with USB debugging"):
        connect(adb_server, "android")


def test_bench_cli_fails_fast_with_one_line_when_no_phone_is_connected(adb_server, tmp_path):
    from click.testing import CliRunner

    from fitedge.cli import cli
    result = CliRunner().invoke(cli, ["bench", "tiny", "--no-export", "--on", "android", "--adb", adb_server,
                                      "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: no Android device found by adb") and len(result.output.splitlines()) == 1
    assert not (tmp_path / "results.json").exists()  # nothing measured, nothing written


def test_a_device_results_file_of_another_kind_is_refused_before_measuring(tmp_path):
    from click.testing import CliRunner

    from fitedge.cli import cli

    bogus = tmp_path / "results.json"
    bogus.write_text('{"schema": "fitedge.bench", "runs": []}')
    result = CliRunner().invoke(cli, ["bench", "tiny", "--no-export", "--device-results", str(bogus),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "not a valid fitedge.device_bench v1 results file" in result.output
    assert not (tmp_path / "out").exists()


def test_a_missing_adb_binary_says_how_to_get_one(tmp_path):
    with pytest.raises(DeviceError, match="adb not found .*apt-get install adb.*--adb PATH"):
        connect(str(tmp_path / "no-adb-here"), "android")


@pytest.mark.parametrize("devices, serial, message", [
    ({"R58M": "unauthorized"}, None, "R58M is unauthorized: unlock the phone, accept the 'Allow USB debugging'"),
    ({"R58M": "offline"}, "R58M", "R58M is offline: reconnect it"),
    ({"A": "device", "B": "device"}, None, r"several devices connected \(A, B\): choose one with --on"),
    ({"A": "device"}, "B", r"device B not found by adb \(connected: A\)"),
])
def test_device_states_are_one_line_errors(devices, serial, message):
    with pytest.raises(DeviceError, match=message):
        choose_device(devices, serial)


def test_the_one_usable_device_is_chosen():
    assert choose_device({"emulator-5554": "device"}, None) == "emulator-5554"
    assert choose_device({"A": "unauthorized", "B": "device"}, "B") == "B"


@pytest.mark.parametrize("spec, serial", [("android", None), ("android:R58M", "R58M")])
def test_device_spec(spec, serial):
    assert parse_device(spec) == serial


def test_a_bad_device_spec_is_refused():
    with pytest.raises(DeviceError, match="--on must be"):
        parse_device("android:")
