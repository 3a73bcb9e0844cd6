"""Empirical bias correction for PT2E int8 (Nagel et al., "Data-Free Quantization", 2019, section 4.2).

Rounding and clipping in int8 do not only add noise: they shift each output channel's mean, and the shift
carries down the network. So after conversion, each conv's and linear's bias takes away the mean error int8
leaves in its output on the calibration windows, layer by layer in graph order, so that each layer is corrected
for the inputs the corrected layers before it give. The quantization parameters stay as calibrated; only float
biases change, which every PT2E runtime keeps as given (XNNPACK and LiteRT quantize biases themselves, at
lowering). A layer without a bias (HuBERT's front-end convs) is left as it is.

Measured on the recipe's FitHuBERT student, trained without int8 in mind (static XNNPACK recipe, min-max, every
block int8): worst held-out cosine 0.826 before, 0.955 after.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import fx, nn

# The corrected ops and their outputs' channel axis.
CHANNEL_AXIS = {torch.ops.aten.linear.default: -1, torch.ops.aten.conv1d.default: 1}


def correct_biases(converted: fx.GraphModule, float_graph: fx.GraphModule,
                   windows: Sequence[np.ndarray]) -> list[str]:
    """Shift the bias of each conv and linear of ``converted`` (a PT2E-converted graph) by the mean error of its
    output against ``float_graph`` (the same capture before quantization) on ``windows``; returns the corrected
    layers' module paths, in graph order."""
    target = output_means(float_graph, windows)
    steps = [_Stepper(converted, window) for window in windows]
    corrected = []
    for node in converted.graph.nodes:
        outputs = [step.run(node) for step in steps]
        path = _layer_with_bias(node)
        if path in target:
            axis = CHANNEL_AXIS[node.target]
            error = torch.stack([_channel_mean(out, axis) for out in outputs]).mean(0) - target[path]
            _shift_attribute(converted, node.args[2].target, -error)
            for step, out in zip(steps, outputs):
                step.replace(node, out - _along(error, axis, out))  # what the corrected bias now gives
            corrected.append(path)
    return corrected


class _Stepper:
    """One window's pass through a graph, a node at a time, so that all windows can move through it in step."""

    def __init__(self, graph: fx.GraphModule, window: np.ndarray) -> None:
        self.interpreter = fx.Interpreter(graph)
        self.interpreter.args_iter = iter([torch.from_numpy(window)[None]])

    def run(self, node: fx.Node) -> torch.Tensor:
        with torch.no_grad():
            out = self.interpreter.run_node(node)
        self.interpreter.env[node] = out
        return out

    def replace(self, node: fx.Node, value: torch.Tensor) -> None:
        self.interpreter.env[node] = value


def output_means(graph: fx.GraphModule, windows: Sequence[np.ndarray]) -> dict[str, torch.Tensor]:
    """Each biased conv's and linear's mean output per channel over ``windows``, by module path."""
    sums: dict[str, torch.Tensor] = {}
    for window in windows:
        step = _Stepper(graph, window)
        for node in graph.graph.nodes:
            out = step.run(node)
            path = _layer_with_bias(node)
            if path is not None:
                sums[path] = sums.get(path, 0) + _channel_mean(out, CHANNEL_AXIS[node.target])
    return {path: total / len(windows) for path, total in sums.items()}


def _layer_with_bias(node: fx.Node) -> str | None:
    """The module path of a conv or linear node with a bias attribute; ``None`` for any other node."""
    if node.op != "call_function" or node.target not in CHANNEL_AXIS or len(node.args) < 3:
        return None
    bias, stack = node.args[2], node.meta.get("nn_module_stack")
    if not isinstance(bias, fx.Node) or bias.op != "get_attr" or not stack:
        return None
    return list(stack.values())[-1][0]


def _channel_mean(out: torch.Tensor, axis: int) -> torch.Tensor:
    channels_last = out.detach().double().movedim(axis, -1)
    return channels_last.reshape(-1, channels_last.shape[-1]).mean(0)


def _along(per_channel: torch.Tensor, axis: int, like: torch.Tensor) -> torch.Tensor:
    """``per_channel`` shaped to broadcast along ``axis`` of ``like``, in its dtype."""
    shape = [1] * like.dim()
    shape[axis] = -1
    return per_channel.to(like.dtype).reshape(shape)


def _shift_attribute(graph: nn.Module, target: str, shift: torch.Tensor) -> None:
    """Replace the tensor at ``target`` with itself plus ``shift``: a new tensor, since conversion can leave the
    float model's own parameter there, and the float model must stay as it was."""
    *parents, name = target.split(".")
    owner = graph
    for parent in parents:
        owner = getattr(owner, parent)
    old = getattr(owner, name)
    new = (old.detach() + shift.to(old.dtype)).clone()
    setattr(owner, name, nn.Parameter(new, requires_grad=False) if isinstance(old, nn.Parameter) else new)
