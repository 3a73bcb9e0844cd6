"""PT2E int8 recipes: ExecuTorch (XNNPACK quantizer) and LiteRT (litert-torch quantizer), each static or dynamic.

Both follow the same steps: capture the float module with ``torch.export``, annotate it with the runtime's
quantizer (weights int8 symmetric per output channel), run the calibration windows through it to observe
activation ranges (a dynamic recipe observes none: its activations are quantized per input at run time), and
convert; a ``+bias-correction`` method then corrects the convs' and linears' biases for the mean error int8 leaves
(:mod:`fitedge.quantize.bias_correction`). Modules kept float are left unannotated, so they stay float ops.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from fitedge.distill.models.deployable import capture
from fitedge.quantize.keep_float import float_by_design, leaf_modules
from fitedge.quantize.observers import PT2E_METHODS, PT2E_OBSERVERS, pt2e_method

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuantizedModule:
    """A converted PT2E module, the quantizer that annotated it (LiteRT's converter needs it), the recipe name."""

    module: nn.Module
    quantizer: Any
    recipe: str


def quantize_for_executorch(module: nn.Module, calibration: Sequence[np.ndarray], keep_float: list[str],
                            dynamic: tuple[int, int] | None = None, grid: tuple[int, int] | None = None,
                            method: str = PT2E_METHODS[0], mode: str = "static") -> QuantizedModule:
    """XNNPACK quantizer, int8 weights per channel; ``static``: int8 activations per tensor (calibrated with
    ``method``) from op to op; ``dynamic``: each conv's and linear's input quantized at run time (XNNPACK's
    qd8 kernels: a scale per row), float in between.

    ``dynamic``/``grid``: capture with the bounded dynamic length, so the quantized graph keeps it.
    """
    observer, correct_bias = observer_and_correction(method, mode)
    quantizer = executorch_quantizer(module, keep_float, observer, mode)
    converted = prepare_calibrate_convert(module, quantizer, windows_for(mode, calibration), dynamic=dynamic,
                                          grid=grid, correct_bias=correct_bias)
    return QuantizedModule(converted, quantizer, f"pt2e-xnnpack-{mode}-per-channel-float-norms")


def executorch_quantizer(module: nn.Module, keep_float: list[str], observer: str = PT2E_OBSERVERS[0],
                         mode: str = "static") -> Any:
    """The XNNPACK quantizer of the ExecuTorch recipe (``static``, activations observed by ``observer``, or
    ``dynamic``), leaving ``keep_float`` modules of ``module`` float."""
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )

    if mode == "dynamic":
        config = get_symmetric_quantization_config(is_per_channel=True, is_dynamic=True)
    else:
        config = observed_by(get_symmetric_quantization_config(is_per_channel=True), observer)
    quantizer = XNNPACKQuantizer().set_global(config)
    # The kept modules themselves, not only their weighted leaves: the residual adds and products inside a
    # transformer layer belong to no leaf, and quantized they would still round its activations to int8.
    for name in dict.fromkeys(keep_float + leaf_modules(module, keep_float) + float_by_design(module)):
        # set_module_name refuses None, but annotate() reads a None entry as "leave this module float".
        quantizer.module_name_config[name] = None
    return quantizer


def quantize_for_litert(module: nn.Module, calibration: Sequence[np.ndarray], keep_float: list[str],
                        mode: str = "dynamic", method: str = PT2E_METHODS[0]) -> QuantizedModule:
    """litert-torch's PT2E quantizer; ``dynamic`` (int8 weights, activations quantized at run time) or ``static``
    (activations calibrated with ``method``).

    The converter's dynamic mode quantizes every weight it finds, float-kept or not, so kept-float modules
    switch the recipe to ``static`` (the recipe name in the manifest says so).
    """
    from litert_torch.quantize.pt2e_quantizer import PT2EQuantizer, get_symmetric_quantization_config

    if keep_float and mode == "dynamic":
        log.info("LiteRT: float blocks need static int8 (dynamic mode quantizes every weight); using static")
        mode = "static"
    observer, correct_bias = observer_and_correction(method, mode)
    config = get_symmetric_quantization_config(is_per_channel=True, is_dynamic=mode == "dynamic")
    quantizer = PT2EQuantizer().set_global(config if mode == "dynamic" else observed_by(config, observer))
    graph = capture(module, len(calibration[0])).module()
    for name in _litert_stack_names(graph, leaf_modules(module, keep_float) + float_by_design(module)):
        # set_module_name refuses None; an entry of None is what "leave this module alone" means to annotate().
        quantizer.module_name_config[name] = None
    converted = quantize_graph(graph, quantizer, windows_for(mode, calibration), fold=False,
                               correct_bias=correct_bias)
    return QuantizedModule(converted, quantizer, f"pt2e-litert-{mode}-per-channel")


def windows_for(mode: str, calibration: Sequence[np.ndarray]) -> Sequence[np.ndarray]:
    """The calibration windows a ``static`` or ``dynamic`` recipe runs: dynamic quantization observes nothing at
    calibration, so one window, to trace the observers, is enough."""
    return calibration if mode == "static" else calibration[:1]


def observer_and_correction(method: str, mode: str) -> tuple[str, bool]:
    """``method``'s activation observer, and whether ``mode`` corrects the biases after conversion: only a static
    recipe, whose activations are rounded to a calibrated grid, leaves a mean error the windows can measure."""
    observer, correct_bias = pt2e_method(method)
    return observer, correct_bias and mode == "static"


def observed_by(config: Any, observer: str) -> Any:
    """A static PT2E quantization config with its activations observed by ``observer`` (weights unchanged)."""
    if observer not in PT2E_OBSERVERS:
        raise ValueError(f"PT2E observers: {', '.join(PT2E_OBSERVERS)}; got {observer!r}")
    if observer == "histogram":  # what both quantizers' static configs observe with already
        return config
    from torchao.quantization.pt2e.observer import MinMaxObserver

    # The same eps as the quantizers' own activation observers (the smallest scale).
    constructor = MinMaxObserver.with_args(eps=2**-12)

    def swap(spec: Any) -> Any:
        return None if spec is None else dataclasses.replace(spec, observer_or_fake_quant_ctr=constructor)

    return dataclasses.replace(config, input_activation=swap(config.input_activation),
                               output_activation=swap(config.output_activation))


def run_in_eager(module: nn.Module) -> Callable[[np.ndarray], list[np.ndarray]]:
    """``module`` (a deployable, float or PT2E-converted) as a function of one window, for comparing calibrations."""
    def run(window: np.ndarray) -> list[np.ndarray]:
        with torch.no_grad():
            return [t.numpy() for t in module(torch.from_numpy(window)[None])]

    return run


def _litert_stack_names(graph: nn.Module, modules: list[str]) -> list[str]:
    """The names litert-torch's module filter compares for ``modules``: it derives them from the graph's
    ``nn_module_stack`` keys (cut after ``L__self___``, ``_`` read as ``.``), not from the module paths."""
    wanted, names = set(modules), set()
    for node in graph.graph.nodes:
        for key, (path, _) in node.meta.get("nn_module_stack", {}).items():
            if path in wanted:
                names.add(key[len("L__self___"):].replace("_", "."))
    return sorted(names)


def prepare_calibrate_convert(module: nn.Module, quantizer: Any, calibration: Sequence[np.ndarray],
                              fold: bool = True, dynamic: tuple[int, int] | None = None,
                              grid: tuple[int, int] | None = None, correct_bias: bool = False) -> nn.Module:
    """Capture, annotate with ``quantizer``, observe ``calibration``, convert: the PT2E steps every recipe shares."""
    graph = capture(module, len(calibration[0]), dynamic, grid).module()
    return quantize_graph(graph, quantizer, calibration, fold, correct_bias)


def quantize_graph(graph: nn.Module, quantizer: Any, calibration: Sequence[np.ndarray], fold: bool = True,
                   correct_bias: bool = False) -> nn.Module:
    """Annotate a captured graph module with ``quantizer``, observe ``calibration``, convert; with
    ``correct_bias``, then correct the biases on ``calibration`` (:mod:`fitedge.quantize.bias_correction`)."""
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    from fitedge.quantize.bias_correction import correct_biases

    float_graph = copy.deepcopy(graph) if correct_bias else None  # prepare_pt2e changes the graph in place
    prepared = prepare_pt2e(graph, quantizer)
    with torch.no_grad():
        for window in calibration:
            prepared(torch.from_numpy(window)[None])
    log.info("calibrated on %d windows", len(calibration))
    converted = convert_pt2e(prepared, fold_quantize=fold)
    if float_graph is not None:
        corrected = correct_biases(converted, float_graph, calibration)
        log.info("bias correction: %d convs and linears", len(corrected))
    return converted
