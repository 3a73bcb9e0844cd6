"""``fitedge bench --on android[:SERIAL]``: run the demo app's benchmark mode over a real ``adb``.

For each bundle: push it to the phone, then per artifact x length x threads start ``BenchmarkActivity`` with
the intent extras of contract 3, wait for its ``DONE`` marker (with a timeout), pull ``results.json`` and turn
it into RUN records (:mod:`fitedge.bench.device.results`). Every way this can fail before measuring (no adb,
no device, an unauthorised device, the app missing) is a one-line :class:`DeviceError` saying what to do.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import time
from pathlib import Path

from fitedge.bench.device.results import device_runs, validate_device_results
from fitedge.bench.host.matrix import MatrixSettings
from fitedge.bench.host.targets import Artifact
from fitedge.edge.backends import BACKENDS
from fitedge.errors import DeviceError

log = logging.getLogger(__name__)

PACKAGE = "org.fitedge.demo"
ACTIVITY = f"{PACKAGE}/.BenchmarkActivity"
DEVICE_ROOT = "/data/local/tmp/fitedge"
RESULTS_DIR = "files/fitedge_bench"
ADB_TIMEOUT_S = 60.0
POLL_S = 1.0


def parse_device(spec: str) -> str | None:
    """``android`` -> None (the only device), ``android:SERIAL`` -> SERIAL."""
    kind, _, serial = spec.partition(":")
    if kind != "android" or (":" in spec and not serial):
        raise DeviceError(f"--on must be host, android or android:SERIAL; got {spec!r}")
    return serial or None


def find_adb(adb: str) -> str:
    """The adb executable to use, or a DeviceError saying how to get one."""
    path = shutil.which(adb)
    if path is None:
        raise DeviceError(f"adb not found ({adb!r}): install Android platform tools (Debian: apt-get install adb, "
                          "or `make system`) or pass --adb PATH")
    return path


class Adb:
    """A thin wrapper over one adb binary and (once chosen) one device serial."""

    def __init__(self, binary: str, serial: str | None = None) -> None:
        self.binary, self.serial = binary, serial

    def run(self, *args: str, timeout: float = ADB_TIMEOUT_S, check: bool = True) -> str:
        cmd = [self.binary, *(["-s", self.serial] if self.serial else []), *args]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise DeviceError(f"`adb {' '.join(args)}` did not answer within {timeout:.0f} s") from None
        if check and done.returncode != 0:
            message = (done.stderr.strip() or done.stdout.strip()).splitlines()
            raise DeviceError(f"`adb {' '.join(args)}` failed: {message[-1] if message else done.returncode}")
        return done.stdout

    def shell(self, command: str, timeout: float = ADB_TIMEOUT_S, check: bool = True) -> str:
        return self.run("shell", command, timeout=timeout, check=check)


def list_devices(adb: Adb) -> dict[str, str]:
    """``{serial: state}`` from ``adb devices`` (state: device, unauthorized, offline, ...)."""
    devices = {}
    for line in adb.run("devices").splitlines():
        parts = line.split()
        if len(parts) >= 2 and not line.startswith(("List of devices", "*")):
            devices[parts[0]] = parts[1]
    return devices


def choose_device(devices: dict[str, str], serial: str | None) -> str:
    """The serial to use, or a DeviceError for no device, an unknown serial, ambiguity or a bad state."""
    if not devices:
        raise DeviceError("no Android device found by adb: connect a phone with USB debugging enabled "
                          "(check with `adb devices`), or run without --on for the host")
    if serial is None:
        if len(devices) > 1:
            raise DeviceError(f"several devices connected ({', '.join(devices)}): choose one with --on "
                              "android:SERIAL")
        serial = next(iter(devices))
    state = devices.get(serial)
    if state is None:
        raise DeviceError(f"device {serial} not found by adb (connected: {', '.join(devices)})")
    if state == "unauthorized":
        raise DeviceError(f"device {serial} is unauthorized: unlock the phone, accept the 'Allow USB debugging' "
                          "prompt, then retry")
    if state != "device":
        raise DeviceError(f"device {serial} is {state}: reconnect it (or `adb reconnect`) and retry")
    return serial


def connect(adb_binary: str, device: str) -> Adb:
    """An :class:`Adb` bound to the one usable device, with the demo app installed on it."""
    adb = Adb(find_adb(adb_binary))
    adb.serial = choose_device(list_devices(adb), parse_device(device))
    if f"package:{PACKAGE}" not in adb.shell(f"pm list packages {PACKAGE}").split():
        raise DeviceError(f"the fitedge demo app ({PACKAGE}) is not installed on {adb.serial}: build and install "
                          "it (android_demo/README.md: ./gradlew installDebug), then retry")
    return adb


def push_bundle(adb: Adb, bundle: Path) -> str:
    """Copy a bundle folder to the phone; return its path there."""
    remote = f"{DEVICE_ROOT}/{bundle.name}"
    adb.shell(f"rm -rf {remote} && mkdir -p {DEVICE_ROOT}")
    adb.run("push", str(bundle), remote, timeout=600)
    return remote


def run_app_once(adb: Adb, remote_bundle: str, artifact: str, seconds: float, threads: int,
                 settings: MatrixSettings) -> dict:
    """Start the app's benchmark mode for one cell, wait for DONE and return its results document."""
    adb.shell(f"run-as {PACKAGE} rm -rf {RESULTS_DIR}", check=False)
    adb.shell(f"am start -W -n {ACTIVITY} --es bundle {remote_bundle} --es artifact {artifact} --ef seconds {seconds} "
              f"--ei warmup {settings.warmup} --ei iterations {settings.iters} --ei threads {threads}")
    deadline = time.monotonic() + settings.timeout_s
    while "DONE" not in adb.shell(f"run-as {PACKAGE} ls {RESULTS_DIR}", check=False):
        if time.monotonic() > deadline:
            raise DeviceError(f"{artifact}: the app wrote no results within {settings.timeout_s:.0f} s "
                              f"(see `adb logcat -s fitedge`)")
        time.sleep(POLL_S)
    text = adb.run("exec-out", "run-as", PACKAGE, "cat", f"{RESULTS_DIR}/results.json")
    try:
        return validate_device_results(json.loads(text), f"{adb.serial}:{RESULTS_DIR}/results.json")
    except json.JSONDecodeError as e:
        raise DeviceError(f"{artifact}: the app's results.json is not JSON ({e})") from None


def run_on_android(adb: Adb, artifacts: list[Artifact], settings: MatrixSettings) -> tuple[dict, list[dict]]:
    """Benchmark every ExecuTorch/LiteRT artifact of the given bundles on the phone that ``adb`` is connected to
    (see :func:`connect`); returns (device entry, runs)."""
    on_phone = [a for a in artifacts if a.path is not None and BACKENDS.for_runtime(a.runtime).on_android]
    if not on_phone:
        raise DeviceError("nothing to run on the phone: give a bundle with .pte or .tflite artifacts")
    remote = {folder: push_bundle(adb, folder) for folder in sorted({a.path.parent for a in on_phone})}
    device_entry, runs = None, []
    for a in on_phone:
        for seconds in settings.seconds:
            for threads in settings.threads:
                log.info("on %s: %s, %.1f s, %d threads", adb.serial, a.name, seconds, threads)
                doc = run_app_once(adb, remote[a.path.parent], a.name, seconds, threads, settings)
                device_entry, cell_runs = device_runs(doc, adb.serial, [a])
                runs += cell_runs
    return device_entry, runs
