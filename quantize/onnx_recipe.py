"""ONNX Runtime int8: static QDQ (per-channel weights, calibrated activations; the default) or dynamic (a scale per
row, :mod:`fitedge.quantize.onnx_rows`).

Static QDQ is the default because it is the fast one: int8 from op to op, the convolutions (where FitHuBERT
spends most of its time) included. The dynamic recipe keeps the convolutions float and adds per-row arithmetic
around each product: it is the accurate one, which int8 auto takes for a task head whose static decisions differ
from fp32's. Only products with a weight are quantized: the attention products (activation by activation) stay
float, so that softmax probabilities are not rounded to 256 levels; they are about 3% of the MACs, and in int8
cost a QLinearSoftmax that is slower than the float softmax it replaces. Kept-float modules are found through
the module scopes the dynamo exporter writes into each node's metadata.

The static recipe's weights are quantized to 7 bits (``reduce_range``) so that the same file computes the same
numbers on every x86-64 CPU. Without VNNI (AVX2, AVX-512 without VNNI), ONNX Runtime multiplies u8 activations by
s8 weights with ``vpmaddubsw``, which adds two products into a saturating int16: 255 x 127 x 2 overflows it, and
the saturation cost fithubert's int8 file 0.05 of cosine on an AVX2 CPU (0.9527 against 0.999 with VNNI). With
7-bit weights the pair sum stays below 2**15 (255 x 64 x 2), so AVX2, AVX-512 and VNNI kernels agree; measured on
a VNNI CPU it costs no time and 0.0002 of cosine (see ONNX Runtime's quantization docs on u8s8 saturation). U8U8
would also be exact but ran 1.6x slower.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fitedge.errors import ExportError, one_line

log = logging.getLogger(__name__)
# Only the weight-heavy ops: quantizing LayerNorm/Softmax/elementwise adds error and, in QDQ form, no speed.
OPS_TO_QUANTIZE = ["Conv", "MatMul", "Gemm"]
SCOPES_KEY = "pkg.torch.onnx.name_scopes"
# fitedge.quantize.observers' names for ONNX Runtime's CalibrationMethod members.
CALIBRATION_METHODS = {"minmax": "MinMax", "percentile": "Percentile", "entropy": "Entropy"}


class WindowReader:
    """onnxruntime's ``CalibrationDataReader`` protocol over calibration windows."""

    def __init__(self, input_name: str, windows: Sequence[np.ndarray]) -> None:
        self._windows = [{input_name: w[None, :].astype(np.float32)} for w in windows]
        self.rewind()

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)

    def rewind(self) -> None:
        self._feeds = iter(self._windows)


def quantize_onnx(fp32_path: Path, out_path: Path, calibration: Sequence[np.ndarray], keep_float: list[str],
                  mode: str = "static", input_name: str = "wav", method: str = "minmax") -> str:
    """Write the int8 model of ``fp32_path`` to ``out_path``; returns the recipe name for the manifest.

    ``method``: how the static recipe observes activation ranges (one of ``observers.ONNX_RUNTIME_METHODS``).
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    from fitedge.quantize.onnx_rows import RECIPE, quantize_rows

    excluded = nodes_in_modules(fp32_path, keep_float) + activation_products(fp32_path)
    try:
        if mode == "dynamic":
            quantize_rows(fp32_path, out_path, excluded)
            return RECIPE
        quantize_static(fp32_path, out_path, WindowReader(input_name, calibration), quant_format=QuantFormat.QDQ,
                        per_channel=True, reduce_range=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8,
                        op_types_to_quantize=OPS_TO_QUANTIZE, nodes_to_exclude=excluded,
                        calibrate_method=CalibrationMethod[CALIBRATION_METHODS[method]])
    except Exception as e:  # onnxruntime and onnx raise assorted types; one line names the step
        raise ExportError(f"ONNX Runtime {mode} quantization failed: {type(e).__name__}: {one_line(e)}") from e
    return "ort-static-qdq-per-channel-w7"


def activation_products(onnx_path: Path) -> list[str]:
    """Names of the MatMul nodes of ``onnx_path`` that multiply two activations (no weight operand)."""
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    weights = {init.name for init in graph.initializer}
    return [node.name for node in graph.node
            if node.op_type == "MatMul" and not any(name in weights for name in node.input)]


def nodes_in_modules(onnx_path: Path, modules: list[str]) -> list[str]:
    """Names of the ONNX nodes that came from any of ``modules`` (qualified PyTorch module names)."""
    if not modules:
        return []
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    found = []
    for node in graph.node:
        meta = {p.key: p.value for p in node.metadata_props}
        scopes = ast.literal_eval(meta[SCOPES_KEY]) if SCOPES_KEY in meta else []
        if any(s == m or s.startswith(m + ".") for s in scopes for m in modules):
            found.append(node.name)
    log.info("keeping %d ONNX nodes float", len(found))
    return found
