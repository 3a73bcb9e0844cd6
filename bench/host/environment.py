"""Where a benchmark ran: CPU model and class, core count, OS, and the version of every runtime involved."""

from __future__ import annotations

import os
import platform
from importlib import metadata

from fitedge.edge.backends import BACKENDS
from fitedge.host import cpu_model, describe_cpu


def runtime_packages() -> tuple[str, ...]:
    """fitedge, torch, every backend's packages, numpy: the versions a benchmark's numbers depend on."""
    return ("fitedge", "torch", *(name for b in BACKENDS for name in b.packages), "numpy")


def package_versions(names: tuple[str, ...] | None = None) -> dict[str, str | None]:
    """Installed version of each package (None when absent), read from metadata without importing it."""
    names = runtime_packages() if names is None else names
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def usable_cores() -> int:
    """Cores this process may run on (the affinity mask, which containers narrow), not the host's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def load_average() -> list[float] | None:
    """1, 5 and 15-minute load averages: other work sharing these cores skews every latency measured."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def describe_host(load_at_start: list[float] | None = None) -> dict:
    """The ``environment`` record of results.json (``load_at_start``: :func:`load_average` before measuring)."""
    return {
        "kind": "host",
        "cpu_model": cpu_model(),
        "cpu": describe_cpu(),  # class and int8-relevant ISA features: int8 speed depends on them
        "machine": platform.machine(),
        "cores": usable_cores(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": package_versions(),
        "load_average": {"start": load_at_start, "end": load_average()},
    }
