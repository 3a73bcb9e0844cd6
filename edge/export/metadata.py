"""Self-describing artifacts: the fields every exported file carries, so that it is usable without the manifest.

Each backend writes them where its format has room (``Backend.write_metadata``): an ``.onnx`` file as
``metadata_props``, a ``.tflite`` file as a metadata buffer named ``fitedge`` holding JSON. The keys
start with the ones sherpa-onnx and icefall write into their ONNX files (``model_type``, ``version``,
``comment``, ``sample_rate``) and add fitedge's own; every value is a string, as ``metadata_props`` requires.
A ``.pte`` has no free-form metadata field: its ETRecord, kept beside it, describes it to ExecuTorch's tools.
"""

from __future__ import annotations

from fitedge.distill.models.deployable import INPUT_NAME
from fitedge.edge.export.model import ExportModel
from fitedge.version import __version__

MODEL_TYPE = "fitedge-encoder"
METADATA_VERSION = 1  # of this set of keys; bump when a key changes meaning


def artifact_metadata(model: ExportModel, precision: str, recipe: str) -> dict[str, str]:
    """The fields of one artifact of ``model``: what it is, what it takes and what it returns."""
    outputs = model.output_descriptions()

    def joined(key: str) -> str:
        # final_proj has no layer: "" keeps the lists aligned with output_names
        return ",".join("" if o[key] is None else str(o[key]) for o in outputs)

    return {
        "model_type": MODEL_TYPE,
        "version": str(METADATA_VERSION),
        "comment": "HuBERT-family speech encoder exported by fitedge: float32 audio in, hidden states out",
        "model_name": model.name,
        "model_source": model.source,
        "trained": str(model.trained).lower(),
        "fitedge_version": __version__,
        "precision": precision,
        "recipe": recipe,
        "input_name": INPUT_NAME,
        "sample_rate": str(model.config.sample_rate),
        "normalization": model.normalization,
        "frame_hop_ms": str(model.config.frame_hop_ms),
        "output_names": joined("name"),
        "output_layers": joined("layer"),
        "output_frame_hops_ms": joined("frame_hop_ms"),
    }

