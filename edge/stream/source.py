"""Open a :class:`~fitedge.edge.stream.stream.Stream` on a bundle, an artifact file or a model run eagerly.

The geometry comes from the model's config (the bundle manifest's ``model.config`` for an artifact) and the
chunk/context settings in milliseconds; a static artifact exported with ``--chunk-ms`` brings its own settings
in the manifest's ``streaming`` section, and refuses any setting whose window is not its input length. A model
with chunked attention defaults to the setting it reproduces exactly (:func:`model_stream_frames`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fitedge.edge.backends import BACKENDS
from fitedge.edge.bundle import manifest as mf
from fitedge.edge.stream.geometry import (
    SAMPLE_RATE,
    StreamGeometry,
    is_chunked,
    model_hop_and_receptive,
    model_stream_frames,
)
from fitedge.edge.stream.stream import Stream
from fitedge.errors import BundleError, ConfigError

DEFAULT_CHUNK_MS, DEFAULT_LEFT_MS, DEFAULT_RIGHT_MS = 640.0, 1280.0, 320.0


@dataclass(frozen=True)
class StreamSettings:
    """Chunk and context in milliseconds; ``None`` takes the artifact's own (manifest) or the defaults.
    ``fill_edges``: windows hold only heard audio (:class:`~fitedge.edge.stream.stream.Stream`)."""

    chunk_ms: float | None = None
    left_ms: float | None = None
    right_ms: float | None = None
    fill_edges: bool = False

    def geometry(self, hop: int, receptive: int, recorded: dict[str, int] | None = None,
                 config: Any = None) -> StreamGeometry:
        """The geometry for a model of ``(hop, receptive)``; ``recorded``: the manifest's ``streaming`` section;
        ``config``: the model's, for the defaults of a chunked-attention model."""
        defaults = default_ms(recorded, config)
        chosen = [d if v is None else v for v, d in zip((self.chunk_ms, self.left_ms, self.right_ms), defaults)]
        return StreamGeometry.from_ms(hop, receptive, *chosen)


def default_ms(recorded: dict[str, int] | None, config: Any = None) -> tuple[float, float, float]:
    """Chunk, left and right in ms: those of a manifest's ``streaming`` section, else those a chunked-attention
    ``config`` reproduces exactly, else 640/1280/320."""
    if recorded:
        g = StreamGeometry.from_manifest(recorded)
        return g.chunk * g.hop_ms, g.left * g.hop_ms, g.right * g.hop_ms
    frames = model_stream_frames(config) if config is not None else None
    if frames is None:
        return DEFAULT_CHUNK_MS, DEFAULT_LEFT_MS, DEFAULT_RIGHT_MS
    hop_ms = 1000.0 * model_hop_and_receptive(config)[0] / SAMPLE_RATE
    return tuple(n * hop_ms for n in frames)


def bundle_default_ms(source: str | Path) -> tuple[float, float, float]:
    """:func:`default_ms` of a bundle folder's manifest, of a preset or of a fitedge checkpoint folder's
    ``config.json``; the plain defaults for anything else (other checkpoint formats attend to everything)."""
    from fitedge.distill.models.config import PRESETS, EncoderConfig

    folder = Path(source)
    if (folder / mf.MANIFEST_FILE).is_file():
        manifest = mf.Manifest.read(folder)
        return default_ms(manifest.streaming, manifest.model.config)
    if str(source) in PRESETS:
        return default_ms(None, PRESETS[str(source)])
    try:  # a fitedge folder's config.json: {"format": "fitedge", "encoder": {...}, ...}; no torch to read it
        doc = json.loads((folder / "config.json").read_text())
        return default_ms(None, EncoderConfig.from_dict(doc["encoder"]) if doc.get("format") == "fitedge" else None)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, ConfigError):
        return default_ms(None)  # not one: loading it says what is wrong


def open_stream(target: Any, settings: StreamSettings = StreamSettings(), threads: int | None = None,
                trim_edges: bool = False, **options: Any) -> Stream:
    """A stream over ``target``: a bundle folder (its first artifact), a ``.pte``/``.tflite``/``.onnx`` file of a
    bundle, an :class:`Encoder`, or a model source run eagerly (preset name, checkpoint). ``trim_edges`` (and
    ``settings.fill_edges``): see :class:`Stream`; a chunked-attention model's stream has ``shift_start``.
    ``options`` go to :func:`fitedge.edge.runtime.load`."""
    from fitedge.edge import runtime

    path = Path(target) if isinstance(target, str | Path) else None
    if path is not None and path.is_dir() and (path / mf.MANIFEST_FILE).is_file():
        manifest = mf.Manifest.read(path)
        path = path / manifest.artifacts[0].file
    if path is not None and BACKENDS.find_file(path) is not None:
        hop, receptive, recorded = artifact_geometry(path)
        runner = runtime.load(path, threads=threads, **options)
        config = mf.Manifest.read(path.parent).model.config
        return Stream(runner, settings.geometry(hop, receptive, recorded, config), trim_edges, is_chunked(config),
                      settings.fill_edges)
    runner = runtime.load(target, threads=threads, **options)
    config = runner.module.encoder.config
    hop, receptive = model_hop_and_receptive(config)
    return Stream(runner, settings.geometry(hop, receptive, config=config), trim_edges, is_chunked(config),
                  settings.fill_edges)



def artifact_geometry(path: Path) -> tuple[int, int, dict[str, int] | None]:
    """``(H, R, streaming section or None)`` of an artifact, from the manifest of the bundle that holds it."""
    if not (path.parent / mf.MANIFEST_FILE).is_file():
        raise BundleError(f"{path}: streaming needs the bundle's {mf.MANIFEST_FILE} beside the file (the model's "
                          "hop and receptive field are there)")
    manifest = mf.Manifest.read(path.parent)
    if manifest.artifact(path.name) is None:
        raise BundleError(f"{path}: not listed in {path.parent / mf.MANIFEST_FILE}")
    hop, receptive = model_hop_and_receptive(manifest.model.config)
    recorded = manifest.streaming
    if recorded and (recorded["frame_hop_samples"], recorded["receptive_field_samples"]) != (hop, receptive):
        raise ConfigError(f"{path}: the manifest's streaming section says hop {recorded['frame_hop_samples']} and "
                          f"receptive field {recorded['receptive_field_samples']}, the model has {hop} and {receptive}")
    return hop, receptive, recorded
