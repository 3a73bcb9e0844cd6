"""LiteRT (``.tflite``): lowered with litert-torch, run by LiteRT's Interpreter (``tflite_runtime`` as a fallback).

TFLite wants static shapes, so every ``.tflite`` is static. int8 is litert-torch's PT2E recipe, ``dynamic`` (int8
weights, activations quantized per input at run time; the default) or ``static`` (calibrated), or fitedge's
``dynamic-linears`` (:mod:`fitedge.edge.lower.litert_rows`: int8 weights in the float model's linears only, each
frame's input quantized on its own at run time, every conv float). Every artifact takes
float32 audio: a static int8 file gets a QUANTIZE op at its input (:func:`fitedge.edge.lower.litert.float_interface`)
unless ``--integer-io`` keeps the int8 input, which the manifest's ``input_quantization`` then describes and
:func:`quantize_input` applies (the Java core's ``InputQuantization`` does the same arithmetic).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fitedge.edge.backends.base import Backend, BuildRequest, Built, OpProfile, Runner, io_for
from fitedge.quantize.observers import PT2E_METHODS

NO_PROFILER = ("no per-op profile: ai-edge-litert's Python Interpreter exposes no profiler (the C++ "
               "tflite::Profiler and benchmark_model --enable_op_profiling are not in the wheel)")


class LiteRTRunner(Runner):
    runtime = "litert"

    def __init__(self, path: Path, threads: int | None, overrides: dict[str, Any]) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:  # old single-board computers only have the predecessor
            from tflite_runtime.interpreter import Interpreter
        self.interpreter = Interpreter(model_path=str(path), num_threads=threads or None)
        signatures = self.interpreter.get_signature_list()
        key = next(iter(signatures))
        self.signature = self.interpreter.get_signature_runner(key)
        self.input_key = signatures[key]["inputs"][0]
        # litert-torch names outputs output_0, output_1, ...: keep the module's order.
        self.output_keys = sorted(signatures[key]["outputs"], key=lambda k: int(k.rsplit("_", 1)[1]))
        shape = self.signature.get_input_details()[self.input_key]["shape"]
        super().__init__(path, **io_for(path, len(self.output_keys), int(shape[1]), overrides))

    def _run(self, x: np.ndarray) -> list[np.ndarray]:
        inputs = self.signature.get_input_details()[self.input_key]
        result = self.signature(**{self.input_key: _as_input(x, inputs)})
        outputs = self.signature.get_output_details()
        return [_dequantize_like(result[k], outputs[k]) for k in self.output_keys]


def _as_input(x: np.ndarray, details: dict[str, Any]) -> np.ndarray:
    """Float audio as the model's input: unchanged for float32, quantized for an ``--integer-io`` model."""
    if details["dtype"] == np.float32:
        return x
    scale, zero = details["quantization"]
    return quantize_input(x, {"dtype": np.dtype(details["dtype"]).name, "scale": scale, "zero_point": zero})


def quantize_input(x: np.ndarray, quantization: dict[str, Any]) -> np.ndarray:
    """``clip(round(x / scale + zero_point))`` in the manifest's ``input_quantization`` terms (the Java core's too)."""
    dtype = np.dtype(quantization["dtype"])
    info = np.iinfo(dtype)
    scaled = x / np.float32(quantization["scale"]) + quantization["zero_point"]
    return np.clip(np.round(scaled), info.min, info.max).astype(dtype)


def _dequantize_like(y: np.ndarray, details: dict[str, Any]) -> np.ndarray:
    if details["dtype"] == np.float32:
        return y
    scale, zero = details["quantization"]
    return (y.astype(np.float32) - zero) * scale


class LiteRTBackend(Backend):
    name, target, suffix = "litert", "tflite", ".tflite"
    title = "LiteRT export (.tflite)"
    extra, run_extra = "litert-export", "litert"
    packages = ("ai-edge-litert", "litert-torch")
    preload = ("ai_edge_litert.interpreter",)
    int8_modes = ("dynamic", "static", "dynamic-linears")
    calibrations = PT2E_METHODS
    on_android = True

    def dynamic_length(self, precision: str) -> bool:
        return False

    def int8_mode(self, options: Any) -> str:
        return options.litert_int8

    def quantizes_at_run_time(self, options: Any) -> bool:
        return self.int8_mode(options) in ("dynamic", "dynamic-linears")

    def closer_int8(self, options: Any) -> dict[str, str] | None:
        # Only the linears, each frame's input on its own scale; the convs stay float.
        return None if self.int8_mode(options) == "dynamic-linears" else {"litert_int8": "dynamic-linears"}

    def observes_activations(self, request: BuildRequest) -> bool:
        return self._recipe(request) == "static"

    def _recipe(self, request: BuildRequest) -> str:
        """The recipe ``request`` gets. Float blocks switch a dynamic one to static, which calibrates: any block
        for litert-torch's dynamic recipe (its converter quantizes every weight it finds), a block holding a
        linear for dynamic-linears."""
        from fitedge.quantize.keep_float import holds_linear

        mode = self.int8_mode(request.options)
        if mode == "static" or not request.keep_float:
            return mode
        if mode == "dynamic-linears" and not holds_linear(request.deployable, request.keep_float):
            return mode  # its convs are float anyway
        return "static"

    def build(self, request: BuildRequest) -> Built:
        from fitedge.edge.lower.litert import (
            float_interface,
            litert_delegation,
            litert_input_quantization,
            lower_to_tflite,
        )
        from fitedge.quantize.pt2e import quantize_for_litert, run_in_eager

        path = request.path
        if request.precision == "fp32":
            lower_to_tflite(request.deployable, request.samples, path)
            return Built("litert-torch-fp32", {"delegation": litert_delegation(path)})
        mode = self._recipe(request)
        if mode == "dynamic-linears":
            return self._build_dynamic_linears(request)
        quantized, calibration = self.calibrated(
            request, lambda method: quantize_for_litert(request.deployable, request.calibration, request.keep_float,
                                                        mode, method),
            lambda candidate: run_in_eager(candidate.module), run_in_eager(request.deployable))
        lower_to_tflite(quantized.module, request.samples, path, quantized.quantizer)
        if not request.options.integer_io:
            float_interface(path)
        entry = {} if calibration is None else {"calibration": calibration.to_dict()}
        return Built(quantized.recipe, {**entry, "delegation": litert_delegation(path),
                                        "input_quantization": litert_input_quantization(path)})

    def _build_dynamic_linears(self, request: BuildRequest) -> Built:
        from fitedge.edge.lower.litert import litert_delegation, litert_input_quantization, lower_to_tflite
        from fitedge.edge.lower.litert_rows import RECIPE, quantize_linears

        float_path = request.path.with_name(f".{request.path.stem}.float.tflite")
        try:
            lower_to_tflite(request.deployable, request.samples, float_path)
            quantize_linears(float_path, request.path)
        finally:
            float_path.unlink(missing_ok=True)
        return Built(RECIPE, {"delegation": litert_delegation(request.path),
                              "input_quantization": litert_input_quantization(request.path)})

    def open(self, path: Path, threads: int | None, overrides: dict[str, Any]) -> Runner:
        return LiteRTRunner(path, threads, overrides)

    def write_metadata(self, path: Path, metadata: dict[str, str]) -> None:
        from fitedge.edge.lower.litert import write_tflite_metadata

        write_tflite_metadata(path, metadata)

    def read_metadata(self, path: Path) -> dict[str, str]:
        from fitedge.edge.lower.litert import read_tflite_metadata

        return read_tflite_metadata(path)

    def profile(self, path: Path, wav: np.ndarray, threads: int, warmup: int, iters: int, out_dir: Path) -> OpProfile:
        return OpProfile(note=NO_PROFILER)
