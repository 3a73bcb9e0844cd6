"""What ``fitedge bench TARGET...`` measures: each target resolved to a list of :class:`Artifact`.

A target is a bundle folder (its eager model plus every artifact its manifest lists), a single artifact
file (with the manifest beside it when there is one), or a model source (a preset name or checkpoint path)
that is exported on the fly into a bundle first. The metadata comes from the manifest, never from file names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from fitedge.edge.backends import BACKENDS
from fitedge.edge.bundle import manifest as mf
from fitedge.errors import ConfigError

EAGER = "eager"

Exporter = Callable[[str], Path]
"""Exports a model source into a bundle folder and returns it (see ``run_benchmark``)."""


@dataclass(frozen=True)
class Artifact:
    """One thing to benchmark: an artifact file, or a model run in eager PyTorch (``name == "eager"``).

    Attributes:
        model: the model's name (from the manifest; the file stem when there is none).
        name: the artifact's file name, or ``eager``.
        runtime: ``eager``, ``executorch``, ``litert`` or ``onnxruntime``.
        precision: ``fp32``, ``int8`` or ``unknown`` (an artifact without a manifest).
        path: the artifact file (``None`` for eager).
        source: eager only: what ``runtime.load`` gets (preset name or checkpoint path; ``None``: build from
            ``config`` with random weights, which times the same).
        config: the encoder config dict (MACs, eager fallback), when known.
        bytes: file size; for eager the float32 weights (4 bytes per parameter).
        input_samples, min_samples, max_samples: a fixed input length, or the bounds of a dynamic one.
        bundle: the folder of the bundle it came from, as given; set only when another target has an artifact of
            the same model and file name (two exports of one model, say plain and auto int8), so that reports can
            tell them apart.
    """

    model: str
    name: str
    runtime: str
    precision: str
    path: Path | None = None
    source: str | None = None
    outputs: str = "last"
    recipe: str | None = None
    config: dict | None = None
    parameters: int | None = None
    bytes: int | None = None
    input_samples: int | None = None
    min_samples: int | None = None
    max_samples: int | None = None
    delegation: dict | None = None
    parity: dict | None = None
    bundle: str | None = None

    @property
    def label(self) -> str:
        """The name reports give it: the file name, after its bundle's folder when that alone is ambiguous."""
        return f"{self.bundle}/{self.name}" if self.bundle else self.name

    def length_problem(self, samples: int) -> str | None:
        """Why this artifact cannot take ``samples`` samples (``None`` when it can)."""
        if self.input_samples is not None and samples != self.input_samples:
            return f"static input of {self.input_samples} samples"
        if self.min_samples is not None and samples < self.min_samples:
            return f"dynamic input of at least {self.min_samples} samples"
        if self.max_samples is not None and samples > self.max_samples:
            return f"dynamic input of at most {self.max_samples} samples"
        return None


def eager_source(model: mf.ModelInfo) -> str | None:
    """The source ``fitedge.load`` reads for a manifest's model: a preset, an existing checkpoint, or None."""
    source = model.source
    if source.startswith("preset:"):
        return source.removeprefix("preset:")
    return source if source and Path(source).exists() else None


def eager_outputs(manifest: mf.Manifest) -> str:
    """The eager ``outputs=`` option that returns what the bundle's artifacts return (a CTC head's logits aside)."""
    logits = (manifest.extra.get("head") or {}).get("output")
    names = [n for n in manifest.output_names() if n != logits]
    if names and all(n.startswith("hidden_state_") for n in names):
        return ",".join(n.removeprefix("hidden_state_") for n in names)
    return "last"  # final_proj needs the checkpoint's head; the backbone dominates the time anyway


def eager_artifact(manifest: mf.Manifest) -> Artifact:
    """The bundle's model as people run it today: float32 eager PyTorch."""
    model = manifest.model
    params = model.parameters
    return Artifact(model=model.name, name=EAGER, runtime=EAGER, precision="fp32", source=eager_source(model),
                    outputs=eager_outputs(manifest), config=model.config, parameters=params,
                    bytes=4 * params if params else None, recipe="torch eager")


def bundle_artifact(manifest: mf.Manifest, folder: Path, entry: mf.ArtifactEntry) -> Artifact:
    """An artifact that a bundle's manifest lists."""
    bounds = manifest.input_bounds(entry)  # a dynamic length is cropped to its grid by the runner
    path = folder / entry.file
    return Artifact(model=manifest.model.name, name=entry.file, runtime=entry.runtime, precision=entry.precision,
                    path=path, recipe=entry.recipe, config=manifest.model.config,
                    parameters=manifest.model.parameters,
                    bytes=path.stat().st_size if path.is_file() else entry.bytes,
                    input_samples=bounds["input_samples"], min_samples=bounds["min_samples"],
                    max_samples=bounds["max_samples"],
                    delegation=entry.extra.get("delegation"), parity=entry.parity.to_dict())


def bundle_artifacts(folder: Path) -> list[Artifact]:
    """Eager plus every artifact of a bundle folder, in manifest order."""
    manifest = mf.Manifest.read(folder)
    return [eager_artifact(manifest)] + [bundle_artifact(manifest, folder, e) for e in manifest.artifacts]


def file_artifact(path: Path) -> Artifact:
    """A single artifact file: described by the manifest beside it, or only by its runtime when alone."""
    if (path.parent / mf.MANIFEST_FILE).is_file():
        manifest = mf.Manifest.read(path.parent)
        entry = manifest.artifact(path.name)
        if entry is not None:
            return bundle_artifact(manifest, path.parent, entry)
    return Artifact(model=path.stem, name=path.name, runtime=BACKENDS.for_file(path).name, precision="unknown",
                    path=path,
                    bytes=path.stat().st_size)


def model_name(source: str) -> str:
    """The name a model source goes by in reports: the preset name, else the checkpoint's folder or file name."""
    from fitedge.distill.models.config import PRESETS

    return source if source in PRESETS else Path(source).name


def model_artifact(source: str) -> Artifact:
    """A model source as people run it today: float32 eager PyTorch, with its deployable (folded) weights."""
    from fitedge.distill.checkpoints.source import load_encoder

    encoder = load_encoder(source).for_inference()
    params = encoder.num_parameters()
    return Artifact(model=model_name(source), name=EAGER, runtime=EAGER, precision="fp32", source=source,
                    config=encoder.config.to_dict(), parameters=params, bytes=4 * params, recipe="torch eager")


def resolve_target(target: str, export: Exporter | None) -> list[Artifact]:
    """The artifacts one TARGET stands for (see the module docstring); ``export=None``: models stay eager."""
    path = Path(target)
    if path.is_dir():
        return bundle_artifacts(path)
    if BACKENDS.find_file(path) is not None:
        if not path.is_file():
            raise ConfigError(f"{target}: no such artifact file")
        return [file_artifact(path)]
    if export is None:
        return [model_artifact(target)]
    return bundle_artifacts(export(target))


def resolve_targets(targets: list[str], export: Exporter | None) -> list[Artifact]:
    """All artifacts of all targets, without duplicates, in the order given; artifacts of one model that share a
    file name (two bundles of one model) are labelled with their bundle's folder."""
    seen: dict[tuple[str, str, str], Artifact] = {}
    for target in targets:
        for artifact in resolve_target(target, export):
            seen.setdefault((artifact.model, artifact.name, str(artifact.path)), artifact)
    artifacts = list(seen.values())
    shared = Counter((a.model, a.name) for a in artifacts)
    # The folder as the user typed it: unique, and recognisable in a table.
    return [replace(a, bundle=str(a.path.parent)) if shared[a.model, a.name] > 1 and a.path else a
            for a in artifacts]
