"""The runtimes fitedge exports to and runs: :data:`BACKENDS`, the one table of them.

Each runtime is one module here with one :class:`~fitedge.edge.backends.base.Backend` (``executorch``,
``litert``, ``onnxruntime``; ``eager`` is PyTorch itself and builds no file). Export planning, the runtime loader,
the benchmark's worker and profiler, ``fitedge env``, the manifest schema's runtime names and the Android
benchmark's runtime list all read :data:`BACKENDS`; an unknown target or suffix is one clear error everywhere.

A runtime outside fitedge plugs in as an installed package's entry point in the group ``fitedge.backends``
(``name = module:attribute``, the attribute a :class:`Backend` instance or class), or in-process with
``BACKENDS.register(backend)``.
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fitedge.edge.backends.base import Backend, BuildRequest, Built, OpProfile, OpTime, Runner
from fitedge.edge.backends.eager import EAGER
from fitedge.edge.backends.executorch import ExecuTorchBackend
from fitedge.edge.backends.litert import LiteRTBackend
from fitedge.edge.backends.onnxruntime import OnnxRuntimeBackend
from fitedge.edge.bundle import manifest as mf
from fitedge.errors import BundleError, ConfigError

__all__ = ["BACKENDS", "EAGER", "Backend", "Backends", "BuildRequest", "Built", "OpProfile", "OpTime", "Runner"]
log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "fitedge.backends"


class Backends:
    """The registered artifact backends, in registration order (the order of ``--targets``' default)."""

    def __init__(self, built_in: list[Backend]) -> None:
        self._backends: dict[str, Backend] = {}
        self._plugins_loaded = False
        for backend in built_in:
            self.register(backend)

    def register(self, backend: Backend | type[Backend]) -> Backend:
        """Add ``backend`` (an instance, or a class to instantiate); its name, target and suffix must be new."""
        backend = backend() if isinstance(backend, type) else backend
        if not (backend.name and backend.target and backend.suffix.startswith(".")):
            raise ConfigError(f"backend {backend!r}: needs a name, a target and a suffix starting with '.'")
        for other in self._backends.values():
            if {backend.name, backend.target, backend.suffix} & {other.name, other.target, other.suffix}:
                raise ConfigError(f"backend {backend.name!r} clashes with {other.name!r} (name, target or suffix)")
        self._backends[backend.name] = backend
        mf.register_runtime(backend.name, backend.suffix)
        return backend

    def __iter__(self) -> Iterator[Backend]:
        self._load_plugins()
        return iter(list(self._backends.values()))

    def __len__(self) -> int:
        return len(list(iter(self)))

    @property
    def targets(self) -> tuple[str, ...]:
        """Every ``--targets`` name."""
        return tuple(b.target for b in self)

    def for_target(self, target: str) -> Backend:
        """The backend of a ``--targets`` name; a :class:`ConfigError` naming the choices for any other."""
        found = next((b for b in self if b.target == target), None)
        if found is None:
            raise ConfigError(f"unknown target {target!r}: choose from {', '.join(self.targets)}")
        return found

    def for_runtime(self, name: str) -> Backend:
        """The backend of a runtime name as manifests and results record it (``eager`` included)."""
        if name == EAGER.name:
            return EAGER
        found = next((b for b in self if b.name == name), None)
        if found is None:
            raise ConfigError(f"unknown runtime {name!r}: fitedge knows {', '.join(b.name for b in self)}")
        return found

    def for_file(self, path: str | Path) -> Backend:
        """The backend of an artifact file by its suffix; a :class:`BundleError` for any other file."""
        found = self.find_file(path)
        if found is None:
            suffixes = ", ".join(b.suffix for b in self)
            raise BundleError(f"{path}: not an artifact fitedge runs (its suffix is not one of {suffixes})")
        return found

    def find_file(self, path: str | Path) -> Backend | None:
        """The backend of ``path``'s suffix, or ``None``."""
        suffix = Path(path).suffix
        return next((b for b in self if b.suffix == suffix), None)

    def _load_plugins(self) -> None:
        """Register the backends that installed packages declare as entry points, once."""
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded: Any = point.load()
            except Exception as e:  # a broken plugin must not take the built-in runtimes down with it
                log.warning("backend plugin %s (%s) does not load: %s", point.name, point.value, e)
                continue
            if point.name not in self._backends:
                self.register(loaded)


BACKENDS = Backends([ExecuTorchBackend(), LiteRTBackend(), OnnxRuntimeBackend()])
