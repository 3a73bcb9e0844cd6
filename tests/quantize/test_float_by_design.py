"""The audio compander stays float in every PT2E int8 recipe: rounding its own ``|x|`` to 8 bits would undo it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import fitedge.quantize.pt2e as pt2e
from fitedge.distill.checkpoints.folder import save_checkpoint
from fitedge.distill.models.config import preset
from fitedge.distill.models.encoder import build_encoder
from fitedge.edge.export.model import load_export_model
from fitedge.edge.export.options import ExportOptions
from fitedge.quantize.keep_float import float_by_design

COMPANDER_OPS = ("abs", "clamp", "log")


def _rounded_sources(graph: torch.nn.Module) -> set[str]:
    """The ops whose outputs the converted graph quantizes."""
    return {str(node.args[0].target) for node in graph.graph.nodes
            if "quantize_per_tensor" in str(node.target) and "dequantize" not in str(node.target)}


@pytest.fixture(scope="module")
def companded(tmp_path_factory: pytest.TempPathFactory) -> torch.nn.Module:
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("mu") / "student"
    save_checkpoint(build_encoder(preset("tiny").replace(mu_law=255.0)), folder)
    return load_export_model(folder, ExportOptions(seconds=1.0)).deployable()


def _windows() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [(rng.standard_normal(16000) * 0.1).astype(np.float32) for _ in range(2)]


def test_a_model_without_a_compander_has_nothing_float_by_design() -> None:
    plain = load_export_model("tiny", ExportOptions(seconds=1.0)).deployable()
    assert float_by_design(plain) == []


@pytest.mark.parametrize("recipe", ["executorch", "litert-static"])
def test_no_pt2e_recipe_rounds_the_companders_intermediates(companded, recipe, monkeypatch) -> None:
    assert float_by_design(companded) == ["encoder.feature_extractor.compand"]

    def quantize() -> torch.nn.Module:
        if recipe == "executorch":
            return pt2e.quantize_for_executorch(companded, _windows(), []).module
        return pt2e.quantize_for_litert(companded, _windows(), [], mode="static").module

    rounded = _rounded_sources(quantize())
    assert not [s for s in rounded if any(op in s for op in COMPANDER_OPS)], rounded
    assert any("conv" in s or "linear" in s for s in rounded)  # the rest is still int8
    monkeypatch.setattr(pt2e, "float_by_design", lambda module: [])
    assert [s for s in _rounded_sources(quantize()) if any(op in s for op in COMPANDER_OPS)]  # what it prevents
