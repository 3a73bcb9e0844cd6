"""ONNX Runtime dynamic int8 with a scale per row: each frame's input to a linear is quantized on its own.

ONNX Runtime's own dynamic quantizer (``DynamicQuantizeLinear``) gives a whole activation tensor one scale, so a
quiet frame beside a loud one keeps few levels, and a CTC head's close calls flip: on the recipe's trained
student it agreed with fp32 on 89% of phonemes, where XNNPACK's per-row recipe agreed on 97%. ONNX has no
per-row quantize op, so the graph does it with standard ones, for every ``MatMul`` by a weight:

    s = max(|x|, last axis) / 127;  y = MatMulInteger(round(x / s) + 128, Wq + 128; zero points 128) * s * sw

with ``Wq`` the weight in int8 per output column (scale ``sw``). Products that read the same input (an
attention block's query, key and value projections) share one quantized copy of it. Convolutions stay float:
ONNX has no per-row integer convolution, and ``ConvInteger``'s per-tensor input is both slower than float in
ONNX Runtime and the damage this recipe avoids. A product whose input is itself a model output (a task head on
the encoder's last layer) stays float too: it is a sliver of the work, and its rounding changes decisions
directly.

Both operands are symmetric int8 values carried as uint8 with zero point 128, which is the same arithmetic:
ONNX Runtime's u8 x u8 kernels sum products in int32 without saturating on any x86-64 class (the u8 x s8 ones
saturate without VNNI, see :mod:`fitedge.quantize.onnx_recipe`), and its s8 x s8 path ran 1.7x slower. So the
weights keep all 8 bits, and the same file gives the same numbers on AVX2 (tests/quantize/test_int8_isa.py).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np

from fitedge.quantize.symmetric import LEVELS, per_channel_int8

ZERO_POINT = 128  # carried as uint8
RECIPE = "ort-dynamic-per-row-matmuls"
ZERO = "per_row/zero_point"  # the initializer both operands' zero point is


def quantize_rows(fp32_path: Path, out_path: Path, excluded: Collection[str] = ()) -> int:
    """Write ``fp32_path`` with its weight products in per-row dynamic int8 to ``out_path``; returns how many.

    ``excluded``: node names to leave float (kept-float modules).
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(fp32_path))
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    outputs = {out.name for out in graph.output}
    opset = next(op.version for op in model.opset_import if op.domain in ("", "ai.onnx"))
    graph.initializer.append(numpy_helper.from_array(np.array(ZERO_POINT, np.uint8), ZERO))
    nodes, quantized_inputs, count = [], {}, 0
    for node in graph.node:
        if not _is_weight_product(node, weights, outputs, excluded):
            nodes.append(node)
            continue
        x, name = node.input[0], node.name or f"matmul{count}"
        if x not in quantized_inputs:
            quantized_inputs[x] = _row_quantize(x, f"{name}/rows", nodes, graph, opset)
        xq, scale = quantized_inputs[x]
        weight = numpy_helper.to_array(weights[node.input[1]]).astype(np.float32)
        wq, wscale = _per_column(weight)
        graph.initializer.extend([numpy_helper.from_array(wq, f"{name}/wq"),
                                  numpy_helper.from_array(wscale, f"{name}/wscale")])
        nodes += [onnx.helper.make_node("MatMulInteger", [xq, f"{name}/wq", ZERO, ZERO], [f"{name}/acc"]),
                  onnx.helper.make_node("Cast", [f"{name}/acc"], [f"{name}/accf"], to=onnx.TensorProto.FLOAT),
                  onnx.helper.make_node("Mul", [f"{name}/accf", scale], [f"{name}/rowscaled"]),
                  onnx.helper.make_node("Mul", [f"{name}/rowscaled", f"{name}/wscale"], [node.output[0]])]
        count += 1
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for node in graph.node for name in node.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    onnx.checker.check_model(model)
    onnx.save(model, str(out_path))
    return count


def _is_weight_product(node: Any, weights: dict[str, Any], outputs: set[str], excluded: Collection[str]) -> bool:
    return (node.op_type == "MatMul" and node.name not in excluded and node.input[1] in weights
            and node.input[0] not in weights and node.input[0] not in outputs
            and len(weights[node.input[1]].dims) == 2)


def _row_quantize(x: str, prefix: str, nodes: list[Any], graph: Any, opset: int) -> tuple[str, str]:
    """Nodes (appended to ``nodes``) giving ``x`` in int8 with one scale per row, carried as uint8; returns the
    names of the quantized input and of its scales."""
    from onnx import TensorProto, helper, numpy_helper

    graph.initializer.extend([numpy_helper.from_array(np.array(LEVELS, np.float32), f"{prefix}/levels"),
                              numpy_helper.from_array(np.array(np.finfo(np.float32).tiny, np.float32),
                                                      f"{prefix}/tiny"),
                              numpy_helper.from_array(np.array(ZERO_POINT, np.float32), f"{prefix}/zero_point")])
    if opset >= 18:  # ReduceMax took its axes as an attribute before opset 18
        graph.initializer.append(numpy_helper.from_array(np.array([-1], np.int64), f"{prefix}/axes"))
        reduce = helper.make_node("ReduceMax", [f"{prefix}/abs", f"{prefix}/axes"], [f"{prefix}/max"], keepdims=1)
    else:
        reduce = helper.make_node("ReduceMax", [f"{prefix}/abs"], [f"{prefix}/max"], axes=[-1], keepdims=1)
    nodes += [helper.make_node("Abs", [x], [f"{prefix}/abs"]),
              reduce,
              helper.make_node("Div", [f"{prefix}/max", f"{prefix}/levels"], [f"{prefix}/raw_scale"]),
              # a row of zeros gets the smallest scale rather than 0/0
              helper.make_node("Max", [f"{prefix}/raw_scale", f"{prefix}/tiny"], [f"{prefix}/scale"]),
              helper.make_node("Div", [x, f"{prefix}/scale"], [f"{prefix}/scaled"]),
              helper.make_node("Round", [f"{prefix}/scaled"], [f"{prefix}/rounded"]),
              helper.make_node("Add", [f"{prefix}/rounded", f"{prefix}/zero_point"], [f"{prefix}/shifted"]),
              helper.make_node("Cast", [f"{prefix}/shifted"], [f"{prefix}/uint8"], to=TensorProto.UINT8)]
    return f"{prefix}/uint8", f"{prefix}/scale"


def _per_column(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``weight`` ``(in, out)`` in symmetric int8 with one scale per output column, carried as uint8."""
    levels, scale = per_channel_int8(weight, channel_axis=1)
    return (levels + ZERO_POINT).astype(np.uint8), scale
