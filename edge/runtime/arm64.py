"""An emulated ARM64 machine for running artifacts in the aarch64 builds of their runtimes (qemu-user).

int8 kernels are chosen by CPU features, and a phone's CPU has other ones than the x86-64 machine a bundle
was exported on: Armv8.0 cores have only NEON, Armv8.2 adds the dot-product instructions (``sdot``), Armv8.6
adds i8mm (``smmla``). :func:`run_on_cpu` runs :mod:`fitedge.edge.runtime.arm64_child` in an arm64 Python
under ``qemu-aarch64 -cpu MODEL``, so each artifact runs in the same runtime version as on x86, built for
aarch64, on the CPU classes asked for (:data:`CPU_CLASSES`).

The environment is built once under ``~/.cache/fitedge/arm64`` (``$XDG_CACHE_HOME`` is honoured) by
:func:`ensure_environment`, with the ordinary package clients only:
- ``root/``: the host's own Debian release's arm64 Python (same minor version as the host's, so the same
  ``cp3XX`` wheels fit), downloaded by ``apt-get`` from the host's configured sources with its architecture
  set to arm64 in a private state folder (the host's package state is not touched), and unpacked with
  ``dpkg-deb -x``: nothing runs in it, so no root, chroot or binfmt is needed;
- ``site/``: the aarch64 wheels of onnxruntime, ai-edge-litert and numpy at the versions installed on the
  host, plus click for fitedge's runtime module, installed by the host's pip with ``--platform``;
- ``cpus/CLASS/``: a view of ``root/`` (symbolic links) for each CPU class with its own ``/proc/cpuinfo``
  and CPU count. QEMU 7.2 (Debian 12) shows guests the host's x86 ``/proc/cpuinfo``, on which the cpuinfo
  library inside ONNX Runtime crashes; ``qemu -L`` looks up guest paths in this folder first, so each class
  gets the file its own kernel would show, built from the HWCAPs and MIDR that QEMU gives its model;
- ``insn-HASH.so``: the instruction-counting TCG plugin (:file:`arm64_insn.c`), when a C compiler exists.

ExecuTorch is not installed: its only aarch64 Python runtime (``executorch``'s ``_portable_lib``) links
libtorch, and PyPI's aarch64 torch is a CUDA build that needs gigabytes of NVIDIA libraries to load.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from fitedge.edge.backends import BACKENDS
from fitedge.edge.runtime.arm64_cpu import proc_cpuinfo
from fitedge.errors import EmulatorError
from fitedge.files import atomic_folder, write_json


class CpuClass(NamedTuple):
    """A phone-CPU class: the ``qemu-aarch64 -cpu`` value that emulates it, and what it stands for."""

    qemu: str
    stands_for: str


# The phone-CPU classes, by the name fitedge gives them. QEMU 7.2 has no named Armv8.6+ core, so i8mm is
# its "max" model without SME: SVE2 + i8mm + dot-product, as in Armv9.0-9.2 phone cores. "max" with SME is
# kept apart, off by default: under it LiteRT's int8 (XNNPACK's SME kernels) loses parity, and QEMU 7.2's
# SME emulation is young enough that this may be the emulator's fault rather than the kernels' (unverified).
CPU_CLASSES = {
    "cortex-a53": CpuClass("cortex-a53", "Armv8.0, NEON only (no dot-product)"),
    "cortex-a76": CpuClass("cortex-a76", "Armv8.2, dot-product"),
    "armv8.6-i8mm": CpuClass("max,sme=off", "Armv8.6+/Armv9 without SME: dot-product, i8mm, SVE2"),
    "armv9.2-sme": CpuClass("max", "Armv9.2 with SME as QEMU 7.2 emulates it (LiteRT int8 fails here; "
                                   "not verified on a real SME core)"),
}
DEFAULT_CPUS = ("cortex-a53", "cortex-a76", "armv8.6-i8mm")
# The aarch64 wheels, at the host's versions: each backend's runtime that runs without torch (Backend.arm64 says
# why one cannot), and what the child itself imports.
WHEELS = (*(b.packages[0] for b in BACKENDS if b.arm64 is None), "numpy", "click")
# PyPI tags aarch64 wheels with several glibc baselines; the arm64 Python's glibc accepts all of them.
PLATFORMS = ("manylinux_2_28_aarch64", "manylinux_2_27_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64")
ENV_VERSION = 2  # bump when the layout of the cache changes
QEMU = "qemu-aarch64"
Progress = Callable[[str], None]


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fitedge" / "arm64"


@dataclass(frozen=True)
class Environment:
    """A built environment: where its parts are, and the instruction-count plugin if one could be built."""

    folder: Path
    python: str  # e.g. "python3.11"
    plugin: Path | None

    @property
    def site(self) -> Path:
        return self.folder / "site"

    def cpu_root(self, name: str) -> Path:
        return self.folder / "cpus" / name


def wanted() -> dict[str, Any]:
    """What the environment must contain; a cache built for anything else is rebuilt."""
    return {"env_version": ENV_VERSION, "python": f"python{sys.version_info.major}.{sys.version_info.minor}",
            "wheels": {name: importlib.metadata.version(name) for name in WHEELS},
            "cpus": {name: c.qemu for name, c in CPU_CLASSES.items()}}


def ensure_environment(progress: Progress = lambda line: None, folder: Path | None = None) -> Environment:
    """The arm64 environment, built on first use (one progress line per step) and reused after."""
    qemu_path()
    folder = folder or cache_folder()
    folder.mkdir(parents=True, exist_ok=True)
    spec = wanted()
    with _locked(folder / ".lock"):
        stamp = folder / "environment.json"
        built = json.loads(stamp.read_text()) if stamp.is_file() else None
        if built != spec:
            stamp.unlink(missing_ok=True)
            _build(folder, spec, progress)
            write_json(stamp, spec)
        return Environment(folder, spec["python"], _plugin(folder, progress))


def qemu_path() -> str:
    found = shutil.which(QEMU)
    if found is None:
        raise EmulatorError(f"{QEMU} not found: install Debian's qemu-user (apt-get install qemu-user)")
    return found


def _build(folder: Path, spec: dict[str, Any], progress: Progress) -> None:
    packages = [f"{spec['python']}-minimal", f"lib{spec['python']}-stdlib", "libstdc++6"]
    progress(f"arm64 environment: downloading {', '.join(packages)} (arm64) with apt-get")
    debs = _apt_download(folder / "apt", packages)
    progress(f"arm64 environment: unpacking {len(debs)} Debian packages")
    with atomic_folder(folder / "root") as root:
        for deb in debs:
            _run(["dpkg-deb", "-x", str(deb), str(root)], "dpkg-deb")
    shutil.rmtree(debs[0].parent)  # unpacked: the .deb files are not needed again
    pins = [f"{name}=={version}" for name, version in spec["wheels"].items()]
    progress(f"arm64 environment: installing aarch64 wheels {', '.join(pins)}")
    with atomic_folder(folder / "site") as site:
        platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
        version = spec["python"].removeprefix("python")
        _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--only-binary=:all:", *platforms,
              "--python-version", version, "--implementation", "cp", "--target", str(site), *pins], "pip")
    shutil.rmtree(folder / "cpus", ignore_errors=True)
    for name in spec["cpus"]:
        progress(f"arm64 environment: probing CPU class {name} (-cpu {CPU_CLASSES[name].qemu})")
        _make_cpu_root(folder, spec["python"], name)


def _apt_download(state: Path, packages: list[str]) -> list[Path]:
    """The arm64 ``.deb`` files of ``packages`` and their dependencies, via the host's apt sources."""
    archives = state / "archives"
    shutil.rmtree(archives, ignore_errors=True)
    (state / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (archives / "partial").mkdir(parents=True)
    (state / "status").touch()
    options = [f"-oDir::State::Lists={state / 'lists'}", f"-oDir::State::status={state / 'status'}",
               f"-oDir::Cache={state}", f"-oDir::Cache::archives={archives}", "-oAPT::Architecture=arm64",
               "-oAPT::Architectures::=arm64", "-oDebug::NoLocking=1", "-oAcquire::Languages=none"]
    if os.geteuid() == 0:  # apt would otherwise try to download as _apt into a folder it cannot write
        options.append("-oAPT::Sandbox::User=root")
    _run(["apt-get", *options, "-q", "update"], "apt-get update")
    _run(["apt-get", *options, "-q", "-y", "--no-install-recommends", "install", "--download-only", *packages],
         "apt-get install --download-only")
    debs = sorted(archives.glob("*.deb"))
    if not debs:
        raise EmulatorError(f"apt-get downloaded no arm64 package for {', '.join(packages)}")
    return debs


def _make_cpu_root(folder: Path, python: str, name: str) -> None:
    """``cpus/NAME``: links to ``root/`` plus the ``/proc/cpuinfo`` and CPU count of one core of class ``name``."""
    view = folder / "cpus" / name
    view.mkdir(parents=True)
    for entry in (folder / "root").iterdir():
        (view / entry.name).symlink_to(Path("..", "..", "root", entry.name))
    probe = Path(__file__).with_name("arm64_cpu.py")  # run as a script: it needs nothing but the standard library
    out = _run([qemu_path(), "-cpu", CPU_CLASSES[name].qemu, "-L", str(folder / "root"),
                str(folder / "root" / "usr" / "bin" / python), "-I", str(probe)], f"the arm64 Python on {name}")
    cpu = json.loads(out)
    (view / "proc").mkdir()
    (view / "proc" / "cpuinfo").write_text(proc_cpuinfo(cpu))
    # One core, so that the runtimes' CPU count agrees with /proc/cpuinfo rather than with the host's /sys.
    cpus = view / "sys" / "devices" / "system" / "cpu"
    cpus.mkdir(parents=True)
    for name in ("possible", "present", "online"):
        (cpus / name).write_text("0\n")


def _plugin(folder: Path, progress: Progress) -> Path | None:
    """The instruction-counting plugin, compiled once per source version; ``None`` without a C compiler."""
    source = Path(__file__).with_name("arm64_insn.c")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    built = folder / f"insn-{digest}.so"
    if built.is_file():
        return built
    compiler = shutil.which(os.environ.get("CC", "cc"))
    if compiler is None:
        progress("arm64 environment: no C compiler (apt-get install gcc): instruction counts are not available")
        return None
    progress("arm64 environment: compiling the instruction-count plugin for qemu")
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        _run([compiler, "-shared", "-fPIC", "-O2", "-o", f"{tmp}/insn.so", str(source)], "cc")
        os.replace(f"{tmp}/insn.so", built)
    return built


def run_on_cpu(env: Environment, name: str, job: dict[str, Any], timeout: float = 3600) -> dict[str, Any]:
    """Run the child on CPU class ``name`` with ``job``; returns its JSON answer (with ``instructions`` by tag)."""
    child = Path(__file__).with_name("arm64_child.py")
    with tempfile.TemporaryDirectory(prefix="fitedge-arm64-") as tmp:
        job_file, answer_file, log_file = Path(tmp, "job.json"), Path(tmp, "answer.json"), Path(tmp, "qemu.log")
        write_json(job_file, {**job, "answer": str(answer_file), "count": env.plugin is not None})
        command = [qemu_path(), "-cpu", CPU_CLASSES[name].qemu, "-L", str(env.cpu_root(name))]
        if env.plugin is not None:
            command += ["-plugin", str(env.plugin), "-d", "plugin", "-D", str(log_file)]
        command += [str(env.folder / "root" / "usr" / "bin" / env.python), "-s", str(child), str(job_file)]
        environ = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONPATH": str(env.site),
                   "TF_CPP_MIN_LOG_LEVEL": "3", "HOME": tmp}
        _run(command, f"the arm64 runner on {name}", env=environ, timeout=timeout)
        answer = json.loads(answer_file.read_text())
        marks = log_file.read_text().split() if log_file.is_file() else []
        answer["instructions"] = {int(tag): int(n) for word, tag, n in zip(marks[::3], marks[1::3], marks[2::3])
                                  if word == "fitedge-mark"}
        return answer


def _run(command: list[str], what: str, env: dict[str, str] | None = None, timeout: float = 1800) -> str:
    """Run ``command``; any failure becomes one :class:`EmulatorError` line naming ``what`` and its last words."""
    try:
        proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    except FileNotFoundError:
        raise EmulatorError(f"{command[0]} not found (needed for {what})") from None
    except subprocess.TimeoutExpired:
        raise EmulatorError(f"{what} did not finish within {timeout:.0f} s") from None
    if proc.returncode != 0:
        lines = [line for line in (proc.stderr + proc.stdout).splitlines() if line.strip()]
        raise EmulatorError(f"{what} failed (exit {proc.returncode}): {lines[-1][:200] if lines else 'no output'}")
    return proc.stdout


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One builder at a time: a second process waits, then finds the environment built."""
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
