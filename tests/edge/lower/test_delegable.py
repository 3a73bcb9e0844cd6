"""The XNNPACK-friendly twins (:func:`fitedge.edge.lower.delegable.xnnpack_friendly`) compute what the model does:
the same outputs for every family, the streaming one's causal positional conv and chunked attention included."""

from __future__ import annotations

import pytest
import torch

from fitedge.distill.models.config import preset
from fitedge.distill.models.deployable import DeployableEncoder, OutputSpec
from fitedge.distill.models.encoder import build_encoder
from fitedge.edge.lower.delegable import DelegablePositionalConv, xnnpack_friendly


@pytest.mark.parametrize("name", ["tiny", "tiny-edge", "tiny-stream"])
def test_the_friendly_twin_gives_the_models_outputs(name: str) -> None:
    torch.manual_seed(0)
    deployable = DeployableEncoder(build_encoder(preset(name)).for_inference(), OutputSpec.parse("all", 2)).eval()
    friendly = xnnpack_friendly(deployable)
    assert any(isinstance(m, DelegablePositionalConv) for m in friendly.modules())
    wav = 0.1 * torch.randn(1, 24000)
    with torch.no_grad():
        for ours, theirs in zip(deployable(wav), friendly(wav), strict=True):
            assert ours.shape == theirs.shape
            torch.testing.assert_close(theirs, ours, rtol=1e-4, atol=1e-4)
