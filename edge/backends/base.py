"""What one runtime is to fitedge: the :class:`Backend` base class, the :class:`Runner` it loads, and what it builds.

A backend owns everything runtime-specific: its artifact suffix and ``--targets`` name, the package whose version the
manifest records and the pip extra that brings it, its capabilities (a dynamic length, its int8 modes, int8 that
quantizes activations at run time), how to lower a deployable module into a file, how to load that file into a
:class:`Runner`, the metadata it writes into the file, and its profiler (or why it has none). Everything else in
fitedge asks :data:`fitedge.edge.backends.BACKENDS`; no other module compares runtime names or suffixes.

Backend modules import their runtime and torch lazily, inside methods: the emulated arm64 child and a torch-free
install import this package to run ``.onnx`` and ``.tflite`` files.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fitedge.edge.bundle import manifest as mf
from fitedge.errors import BundleError, ExportError, ShapeMismatch
from fitedge.extras import absent, install_hint
from fitedge.quantize.observers import CalibrationChoice, Quantized, Run, choose_calibration, methods_to_try


class Runner:
    """A loaded model. Subclasses implement :meth:`_run` on a ``(1, samples)`` float32 array.

    Attributes:
        runtime: the backend's name (``eager``, ``executorch``, ``litert``, ``onnxruntime``...).
        input_samples: the fixed input length, or ``None`` when the length is dynamic.
        min_samples, max_samples: bounds of a dynamic length (``None`` when static or unbounded).
        length_grid: ``(multiple, offset)`` of a dynamic artifact: it takes ``offset + multiple * k`` samples,
            and :meth:`run` crops other lengths down to that grid. The cropped tail fills no output frame; a
            GroupNorm front end (HuBERT Base family) normalises over time, so its statistics shift slightly.
        output_names: names of the returned arrays, in order.
        path: the artifact file (``None`` for eager).
    """

    runtime = ""

    def __init__(self, path: Path | None, input_samples: int | None, output_names: list[str],
                 min_samples: int | None = None, max_samples: int | None = None,
                 length_grid: tuple[int, int] | None = None) -> None:
        self.path = path
        self.input_samples = input_samples
        self.min_samples, self.max_samples = min_samples, max_samples
        self.length_grid = tuple(length_grid) if length_grid else None
        self.output_names = output_names

    def run(self, wav: np.ndarray) -> dict[str, np.ndarray]:
        """Run on ``wav`` (float32, ``(samples,)`` or ``(1, samples)``); returns ``{output name: array}``."""
        x = np.ascontiguousarray(np.asarray(wav, dtype=np.float32))
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[0] != 1:
            raise ShapeMismatch(f"expected audio of shape (samples,) or (1, samples), got {x.shape}")
        self._check_length(x.shape[1])
        if self.length_grid is not None:
            multiple, offset = self.length_grid
            x = x[:, : offset + multiple * ((x.shape[1] - offset) // multiple)]  # capture.on_grid, without torch
        outputs = self._run(x)
        if len(outputs) != len(self.output_names):
            raise ExportError(f"{self.path}: returned {len(outputs)} outputs, expected {len(self.output_names)}")
        return {name: np.asarray(o, dtype=np.float32) for name, o in zip(self.output_names, outputs)}

    def _check_length(self, n: int) -> None:
        if self.input_samples is not None and n != self.input_samples:
            raise ShapeMismatch(f"{self.path or self.runtime}: takes exactly {self.input_samples} samples, got {n}")
        if self.min_samples is not None and n < self.min_samples:
            raise ShapeMismatch(f"{self.path or self.runtime}: takes at least {self.min_samples} samples, got {n}")
        if self.max_samples is not None and n > self.max_samples:
            raise ShapeMismatch(f"{self.path or self.runtime}: takes at most {self.max_samples} samples, got {n}")

    def _run(self, x: np.ndarray) -> list[np.ndarray]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.runtime} {self.path or ''} outputs={self.output_names}>"


@dataclass(frozen=True)
class BuildRequest:
    """One artifact to lower: the module, where to write it, its input, calibration and the export's options.

    ``keep_float`` names the modules of ``deployable`` that an int8 recipe leaves float (empty for fp32).
    ``options`` is the export's :class:`~fitedge.edge.export.options.ExportOptions`: a backend reads its own knobs.
    ``held_out``: windows the quantizer never sees, on which ``--calibration auto`` compares calibration methods.
    """

    deployable: Any
    precision: str
    path: Path
    samples: int
    dynamic: tuple[int, int] | None
    grid: tuple[int, int]
    output_names: list[str]
    calibration: Sequence[np.ndarray]
    keep_float: list[str]
    options: Any
    held_out: Sequence[np.ndarray] = ()


@dataclass(frozen=True)
class Built:
    """What a backend wrote: the recipe's name and the fields it adds to the artifact's manifest entry."""

    recipe: str
    entry: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OpTime:
    """One op type's time over all profiled runs."""

    op: str
    calls: int
    total_ms: float


@dataclass(frozen=True)
class OpProfile:
    """A runtime's per-op profile: the mean run time it measured and the op types, slowest first; or a ``note``
    saying why there is none (and where a runtime's own trace file went, if it wrote one)."""

    run_ms: float | None = None
    ops: list[OpTime] = field(default_factory=list)
    note: str | None = None
    trace: str | None = None


class Backend:
    """One runtime. Subclasses set the class attributes and implement :meth:`build` and :meth:`open`.

    Attributes:
        name: the runtime's name in manifests and results (``executorch``).
        target: its ``--targets`` name (``pte``); ``suffix``: its artifact files' suffix (``.pte``).
        title: the export step as a person knows it (``ExecuTorch export (.pte)``).
        extra: the pip extra that exports to it (a key of :data:`fitedge.extras.EXTRAS`; it brings torch), or
            ``None`` when fitedge's own requirements bring it.
        run_extra: the pip extra that only runs its files (a torch-free device-side install), or ``None``.
        packages: distributions whose versions ``fitedge env`` reports; the first is the runtime the manifest records.
        preload: modules to import before a benchmark's clock starts (load time is the model's, not the library's).
        precisions: what it can build (``fp32``, ``int8``).
        int8_modes: the int8 recipes it offers, the default first (``("static",)`` when there is no choice).
        calibrations: how its static int8 can observe activation ranges (:mod:`fitedge.quantize.observers`), its
            quantizer's usual method first.
        on_android: whether the demo app binds it.
        arm64: why ``fitedge verify --arch arm64`` cannot run it, or ``None`` when it can.
    """

    name: str = ""
    target: str = ""
    suffix: str = ""
    title: str = ""
    extra: str | None = None
    run_extra: str | None = None
    packages: tuple[str, ...] = ()
    preload: tuple[str, ...] = ()
    precisions: tuple[str, ...] = ("fp32", "int8")
    int8_modes: tuple[str, ...] = ("static",)
    calibrations: tuple[str, ...] = ()
    on_android: bool = False
    arm64: str | None = None

    def dynamic_length(self, precision: str) -> bool:
        """Whether its ``precision`` artifact can take a bounded dynamic length (``--dynamic``)."""
        return True

    def int8_mode(self, options: Any) -> str:
        """The int8 recipe ``options`` choose for it (its ``--<runtime>-int8`` option, else the only one)."""
        return self.int8_modes[0]

    def quantizes_at_run_time(self, options: Any) -> bool:
        """Whether its int8 quantizes activations per input at run time with ``options`` (int8 auto tries such a
        recipe with no block float before keeping blocks float)."""
        return False

    def closer_int8(self, options: Any) -> dict[str, str] | None:
        """Export option values that bring its int8 closer to float than ``options`` do (at a cost in speed), if
        it has any: int8 auto takes them where a head's decisions fall below ``--min-decisions``."""
        return None

    def build(self, request: BuildRequest) -> Built:
        """Lower ``request.deployable`` into ``request.path``."""
        raise NotImplementedError

    def observes_activations(self, request: BuildRequest) -> bool:
        """Whether the int8 recipe of ``request`` calibrates activation ranges (a dynamic one does not)."""
        return not self.quantizes_at_run_time(request.options)

    def calibrated(self, request: BuildRequest, quantize: Callable[[str], Quantized],
                   run: Callable[[Quantized], Run], float_run: Run) -> tuple[Quantized, CalibrationChoice | None]:
        """``quantize(method)`` with the calibration ``request.options.calibration`` asks for; for ``auto``, with each
        of :attr:`calibrations`, keeping the candidate whose ``run`` is closest to ``float_run`` on the held-out
        windows. A recipe that observes no activations gets its usual method and no choice (``None``).
        A ``--calibration`` this runtime lacks raises :class:`ConfigError` before any work."""
        if not self.observes_activations(request):
            return quantize(self.calibrations[0]), None
        methods = methods_to_try(request.options.calibration, self.calibrations, self.name)
        held_out = request.held_out if len(methods) > 1 else ()
        reference = [float_run(w) for w in held_out]
        return choose_calibration(methods, quantize, run, held_out, reference)

    def open(self, path: Path, threads: int | None, overrides: dict[str, Any]) -> Runner:
        """Load ``path``; ``overrides`` replace what :func:`io_for` reads from the manifest beside it."""
        raise NotImplementedError

    def open_quiet(self, path: Path, threads: int | None, overrides: dict[str, Any]) -> Runner:
        """:meth:`open`, with threads that sleep between calls: for timing many programs in turns in one process
        (per-block times), where one program's threads still spinning after its call take the next one's cores."""
        return self.open(path, threads, overrides)

    def write_metadata(self, path: Path, metadata: dict[str, str]) -> None:
        """Write fitedge's description into the file itself; a format without a free-form field keeps none."""

    def read_metadata(self, path: Path) -> dict[str, str]:
        """The description :meth:`write_metadata` wrote (``{}`` when the format has no place for one)."""
        return {}

    def profile(self, path: Path, wav: np.ndarray, threads: int, warmup: int, iters: int, out_dir: Path) -> OpProfile:
        """Per-op times of ``iters`` runs after ``warmup``; by default none, and the note says so."""
        return OpProfile(note=f"no per-op profile: fitedge has no profiler for {self.name}")

    def runtime_missing(self) -> str | None:
        """Why this install cannot run its files, as one line naming the extra to install; ``None`` when it can.

        ``fitedge verify`` and ``bench run`` skip such an artifact with this line and run the rest of the bundle
        (a torch-free install has no ExecuTorch runtime and no eager model).
        """
        extra = self.run_extra or self.extra
        missing = absent(extra) if extra else []
        if not missing:
            return None
        return f"the {self.name} runtime is not installed (no {', '.join(missing)}): {install_hint(extra)}"

    def version(self) -> str:
        """The installed version of the runtime's package, as the manifest records it."""
        return importlib.metadata.version(self.packages[0])

    def __repr__(self) -> str:
        return f"<backend {self.name} ({self.suffix or 'no files'})>"


def io_for(path: Path, n_outputs: int, length: int | None, overrides: dict[str, Any],
           default_names: list[str] | None = None) -> dict[str, Any]:
    """Output names and input bounds from ``manifest.json`` beside ``path``, else from the file itself."""
    io: dict[str, Any] = {"input_samples": length, "output_names": default_names or _positional_names(n_outputs)}
    manifest_path = path.parent / mf.MANIFEST_FILE
    if manifest_path.is_file():
        manifest = mf.Manifest.read(path.parent)
        entry = manifest.artifact(path.name)
        if entry is not None:
            names = manifest.output_names()
            if len(names) != n_outputs:
                raise BundleError(f"{path}: has {n_outputs} outputs, the manifest lists {len(names)}")
            io.update(output_names=names, **manifest.input_bounds(entry))
    io.update(overrides)
    return io


def _positional_names(n: int) -> list[str]:
    return ["last_hidden_state"] if n == 1 else [f"output_{i}" for i in range(n)]
