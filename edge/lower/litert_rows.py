"""LiteRT dynamic int8 on the linears only: each frame's input to a linear gets its own scale, every conv float.

litert-torch's dynamic recipe quantizes every weight it finds, the convolutions included, and a convolution's
input is then scaled as one tensor: on the recipe's trained student its transcripts agreed with fp32 on 80% of
phonemes. TFLite runs a ``FULLY_CONNECTED`` with float input and int8 weights as a hybrid kernel that
quantizes each row of its input (each frame) on its own, so writing int8 weights into the float model's linears,
and nothing else, gives the per-row recipe XNNPACK's dynamic ExecuTorch int8 has: 97.8% there, at about the
static recipe's speed (measured in the README). A linear that writes a model output (a task head's logits;
reshapes aside) stays float: a sliver of the work, whose rounding changes decisions directly.

Weights are int8 per output channel (symmetric: zero point 0, ``quantized_dimension`` 0), as the converter's
own dynamic recipe writes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fitedge.edge.lower.litert import check_inline_weights, write_model
from fitedge.quantize.symmetric import per_channel_int8

RECIPE = "litert-dynamic-per-row-linears"


def quantize_linears(fp32_path: Path, out_path: Path) -> int:
    """Write ``fp32_path`` with its linears' weights in int8 to ``out_path``; returns how many linears."""
    from ai_edge_litert import schema_py_generated as schema


    model = schema.ModelT.InitFromPackedBuf(fp32_path.read_bytes(), 0)
    check_inline_weights(model, fp32_path)
    count, done = 0, {}  # buffer -> its quantization, for a weight buffer the converter shared between tensors
    for graph in model.subgraphs:
        outputs = _model_outputs(model, graph)
        for operator in graph.operators:
            if _is_float_linear(model, graph, operator) and operator.outputs[0] not in outputs:
                weight = graph.tensors[operator.inputs[1]]
                if weight.buffer not in done:
                    done[weight.buffer] = _quantize_buffer(model.buffers[weight.buffer], weight.shape)
                weight.type, weight.quantization = schema.TensorType.INT8, done[weight.buffer]
                count += 1
    write_model(model, out_path)
    return count


def _builtin(model: Any, operator: Any) -> int:
    code = model.operatorCodes[operator.opcodeIndex]
    return max(code.builtinCode, code.deprecatedBuiltinCode)


def _model_outputs(model: Any, graph: Any) -> set[int]:
    """The graph's outputs and the tensors that become one through reshapes alone."""
    from ai_edge_litert import schema_py_generated as schema

    reshapes = {schema.BuiltinOperator.RESHAPE, schema.BuiltinOperator.SQUEEZE, schema.BuiltinOperator.EXPAND_DIMS}
    outputs = {int(i) for i in graph.outputs}
    for operator in reversed(graph.operators):  # operators are in execution order
        if _builtin(model, operator) in reshapes and operator.outputs[0] in outputs:
            outputs.add(int(operator.inputs[0]))
    return outputs


def _is_float_linear(model: Any, graph: Any, operator: Any) -> bool:
    from ai_edge_litert import schema_py_generated as schema

    if _builtin(model, operator) != schema.BuiltinOperator.FULLY_CONNECTED:
        return False
    weight = graph.tensors[operator.inputs[1]]
    constant = model.buffers[weight.buffer].data is not None
    return constant and weight.type == schema.TensorType.FLOAT32 and len(weight.shape) == 2


def _quantize_buffer(buffer: Any, shape: Any) -> Any:
    """A constant ``(out, in)`` float32 weight's ``buffer`` in symmetric int8 per output channel, in place; returns
    the tensor quantization that describes it."""
    from ai_edge_litert import schema_py_generated as schema

    weight = np.frombuffer(bytes(buffer.data), np.float32).reshape(shape)
    levels, scale = per_channel_int8(weight, channel_axis=0)
    buffer.data = np.frombuffer(levels.astype(np.int8).tobytes(), np.uint8)
    quantization = schema.QuantizationParametersT()
    quantization.scale, quantization.zeroPoint = scale.tolist(), [0] * len(scale)
    quantization.quantizedDimension = 0
    return quantization
