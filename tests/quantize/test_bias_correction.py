"""Bias correction: after it, no conv or linear of the int8 graph is off on average from float on the calibration
windows, the float model is untouched, and both PT2E recipes apply it when their calibration method asks (static
recipes only)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from fitedge.distill.models.config import preset
from fitedge.distill.models.deployable import DeployableEncoder, OutputSpec, capture
from fitedge.distill.models.encoder import build_encoder
from fitedge.quantize.bias_correction import correct_biases, output_means
from fitedge.quantize.calibration import builtin_speech, windows
from fitedge.quantize.pt2e import (
    executorch_quantizer,
    observer_and_correction,
    quantize_for_executorch,
    quantize_for_litert,
    quantize_graph,
    run_in_eager,
)


def mean_errors(converted: torch.fx.GraphModule, float_graph: torch.fx.GraphModule, clips: list) -> dict[str, float]:
    """Each layer's largest per-channel mean error, relative to its float output's spread of channel means."""
    quantized, reference = output_means(converted, clips), output_means(float_graph, clips)
    return {path: float((quantized[path] - mean).abs().max() / mean.std()) for path, mean in reference.items()}


def test_every_layer_is_corrected_for_its_mean_int8_error_and_the_float_model_is_untouched() -> None:
    torch.manual_seed(0)
    model = DeployableEncoder(build_encoder(preset("tiny")).for_inference(), OutputSpec()).eval()
    before = copy.deepcopy(model.state_dict())
    clips = windows(builtin_speech()[:4], 16000, 3, 16000)
    graph = capture(model, len(clips[0])).module()
    float_graph = copy.deepcopy(graph)
    converted = quantize_graph(graph, executorch_quantizer(model, [], "minmax"), clips)
    errors = mean_errors(converted, float_graph, clips)

    corrected = correct_biases(converted, float_graph, clips)
    assert sorted(corrected) == sorted(errors)  # every conv and linear with a bias, once each
    assert any("pos_conv" in path for path in corrected) and any("fc1" in path or "dense" in path
                                                                  for path in corrected)
    after = mean_errors(converted, float_graph, clips)
    # Corrected in graph order, each against the corrected layers before it: what is left is rounding in float.
    assert max(after.values()) < 1e-3 < max(errors.values()), (errors, after)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # new biases, not edited ones


@pytest.mark.parametrize("recipe", ["executorch", "litert"])
def test_both_pt2e_recipes_correct_biases_when_the_method_says_so(recipe: str) -> None:
    torch.manual_seed(0)
    model = DeployableEncoder(build_encoder(preset("tiny")).for_inference(), OutputSpec()).eval()
    clips = windows(builtin_speech()[:4], 16000, 3, 16000)

    def quantized(method: str) -> np.ndarray:
        if recipe == "executorch":
            module = quantize_for_executorch(model, clips, [], method=method).module
        else:
            module = quantize_for_litert(model, clips, [], mode="static", method=method).module
        return run_in_eager(module)(clips[0])[0]

    plain, corrected = quantized("minmax"), quantized("minmax+bias-correction")
    with torch.no_grad():
        reference = model(torch.from_numpy(clips[0])[None])[0].numpy()
    # On a calibration window, the corrected model's mean over time is closer to float's, channel by channel.
    offset = {name: np.abs((out - reference).mean(axis=1)).mean() for name, out in (("plain", plain),
                                                                                     ("corrected", corrected))}
    assert offset["corrected"] < offset["plain"], offset


def test_only_a_static_recipe_corrects_biases() -> None:
    # A dynamic recipe quantizes each input at run time: there is no calibrated grid whose mean error to correct.
    assert observer_and_correction("minmax+bias-correction", "static") == ("minmax", True)
    assert observer_and_correction("minmax+bias-correction", "dynamic") == ("minmax", False)
    assert observer_and_correction("histogram", "static") == ("histogram", False)
