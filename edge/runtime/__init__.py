"""One way to run every artifact: ``load(target, threads) -> Runner`` with ``runner.run(wav) -> {name: array}``.

Cross-team contract 1. ``target`` is an artifact file of a registered backend (``.pte``, ``.tflite``, ``.onnx``;
see :data:`fitedge.edge.backends.BACKENDS`), or an :class:`Encoder` / model source (preset name or checkpoint
path) run eagerly in PyTorch. Output names come from the bundle's ``manifest.json`` beside the file when there is
one (the runtimes' own names are positional), and the input length is checked before running.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fitedge.edge.backends import BACKENDS, EAGER, Runner
from fitedge.edge.backends.eager import EAGER_OPTIONS
from fitedge.errors import BundleError, ConfigError, MissingDependency, ShapeMismatch, one_line
from fitedge.extras import install_hint

__all__ = ["FILE_OVERRIDES", "Runner", "load"]
FILE_OVERRIDES = {"output_names", "input_samples", "min_samples", "max_samples", "length_grid"}


def load(target: Any, threads: int | None = None, **options: Any) -> Runner:
    """Load ``target`` for inference.

    Args:
        target: an artifact path, an :class:`Encoder`, or a model source for eager PyTorch (a preset name or
            checkpoint path, as ``fitedge.load`` reads).
        threads: CPU threads for the runtime (``None``: the runtime's default).
        options: eager: ``outputs`` (``"last"``, ``"all"``, ``"4,8"``, ``"final_proj"`` or an
            :class:`OutputSpec`), ``input_samples`` (a fixed length to enforce, default any), ``head`` (the
            final_proj module). Files: ``output_names``, ``input_samples``, ``min_samples``, ``max_samples``,
            ``length_grid`` override what the ``manifest.json`` beside the file says (for a file outside a bundle).
    """
    # An artifact file needs only its runtime: the model code (and torch) is imported for eager targets alone,
    # so that the emulated arm64 runner (arm64_child) and a torch-free install can load files.
    backend = BACKENDS.find_file(target) if isinstance(target, (str, Path)) else None
    unknown = set(options) - (EAGER_OPTIONS if backend is None else FILE_OVERRIDES)
    if unknown:
        where = "eager PyTorch" if backend is None else "an artifact file"
        raise ConfigError(f"unknown options {sorted(unknown)} for {where}")
    if backend is None:
        return EAGER.load_model(target, threads, **options)
    path = Path(target)
    if not path.is_file():
        raise BundleError(f"{path}: no such artifact file")
    try:
        return backend.open(path, threads, options)
    except (BundleError, ShapeMismatch):
        raise
    except ModuleNotFoundError as e:  # the runtime itself is not installed: name the extra that brings it
        raise MissingDependency(f"{path}: the {backend.name} runtime is not installed: "
                                f"{install_hint(backend.run_extra or backend.extra)}") from e
    except Exception as e:  # each runtime has its own exception types for a corrupted file
        raise BundleError(f"{path}: {backend.name} cannot load it ({type(e).__name__}: {one_line(e)})") from e
