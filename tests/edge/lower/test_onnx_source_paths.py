"""An ``.onnx`` file carries no trace of the machine that exported it: the same model from any checkout, same bytes.

torch.onnx's dynamo exporter writes each node's Python stack trace, with absolute source paths, into the node's
metadata; the export drops them, and int8 files (quantized from the float file) inherit none.
"""

from __future__ import annotations

from pathlib import Path

import onnx
import torch

from fitedge.distill.models.config import preset
from fitedge.distill.models.deployable import DeployableEncoder, OutputSpec
from fitedge.distill.models.encoder import build_encoder
from fitedge.edge.lower.onnx import STACK_TRACE_KEY, lower_to_onnx
from tests.helpers import REPO


def test_exported_onnx_has_no_source_paths(tmp_path: Path) -> None:
    torch.manual_seed(0)
    encoder = build_encoder(preset("tiny")).for_inference()
    module = DeployableEncoder(encoder, OutputSpec.parse("last", encoder.config.layers)).eval()
    path = tmp_path / "tiny.onnx"
    lower_to_onnx(module, 4000, path, ["last_hidden_state"])
    model = onnx.load(path)
    keys = {p.key for node in model.graph.node for p in node.metadata_props}
    assert "pkg.torch.onnx.name_scopes" in keys  # the exporter's other node metadata stays
    assert STACK_TRACE_KEY not in keys
    assert str(REPO).encode() not in path.read_bytes()
