"""Lower a deployable module to LiteRT (``.tflite``) with litert-torch; static input shape (TFLite wants one).

The int8 path passes the PT2E quantizer that prepared the module (:func:`fitedge.quantize.pt2e.quantize_for_litert`)
so that the converter emits int8 kernels instead of q/dq pairs around float ops.

fitedge's description of the file goes into the flatbuffer's own ``metadata`` list (name -> buffer), as one
entry named ``fitedge`` whose buffer is JSON; LiteRT ignores metadata it does not know, so the file runs as
before. The converter already uses the same list for ``min_runtime_version``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from fitedge.errors import ExportError, one_line

log = logging.getLogger(__name__)
METADATA_NAME = "fitedge"
TFLITE_FILE_IDENTIFIER = b"TFL3"


def lower_to_tflite(module: nn.Module, samples: int, out_path: Path, quantizer: Any = None) -> None:
    """Convert ``module`` for input ``(1, samples)`` and write ``out_path``."""
    import litert_torch
    from litert_torch.quantize.quant_config import QuantConfig

    example = (torch.zeros(1, samples),)
    quant_config = QuantConfig(pt2e_quantizer=quantizer) if quantizer is not None else None
    chatter = io.StringIO()
    try:
        # litert-torch prints a progress log of every conversion step to stdout; keep it for debugging only.
        with contextlib.redirect_stdout(chatter):
            model = litert_torch.convert(module, example, quant_config=quant_config)
            model.export(str(out_path))
    except Exception as e:  # the converter raises assorted types (MLIR, jax, torch); one line names the step
        raise ExportError(f"LiteRT conversion failed: {type(e).__name__}: {one_line(e)}") from e
    finally:
        log.debug("litert-torch: %s", chatter.getvalue())


def float_interface(path: Path) -> None:
    """Give the ``.tflite`` at ``path`` float32 inputs and outputs, in place, quantizing inside the graph.

    litert-torch folds the first activation quantization of a static int8 model into its input, so the file would
    take integer audio, unlike every other artifact (and the manifest's float32 golden input). A QUANTIZE op from a
    new float32 input tensor (a DEQUANTIZE op to a new float32 output) restores the one contract: float32 audio in,
    float32 out. The signature keeps its names, so runners and apps address the same input and outputs.
    """
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(path.read_bytes(), 0)
    check_inline_weights(model, path)
    graph = model.subgraphs[0]
    graph.inputs, graph.outputs = list(graph.inputs), list(graph.outputs)  # unpacked as read-only arrays
    replaced: dict[int, int] = {}  # integer tensor -> its float32 twin at the interface
    first, last = [], []
    for position, index in enumerate(graph.inputs):
        if graph.tensors[index].type != schema.TensorType.FLOAT32:
            replaced[index] = graph.inputs[position] = _float_twin(model, graph, index)
            first.append(_operator(model, schema.BuiltinOperator.QUANTIZE, replaced[index], index))
    for position, index in enumerate(graph.outputs):
        if graph.tensors[index].type != schema.TensorType.FLOAT32:
            replaced[index] = graph.outputs[position] = _float_twin(model, graph, index)
            last.append(_operator(model, schema.BuiltinOperator.DEQUANTIZE, index, replaced[index]))
    if not replaced:
        return
    graph.operators = [*first, *graph.operators, *last]
    for signature in model.signatureDefs or []:
        for entry in [*signature.inputs, *signature.outputs]:
            entry.tensorIndex = replaced.get(entry.tensorIndex, entry.tensorIndex)
    write_model(model, path)


def _float_twin(model: Any, graph: Any, index: int) -> int:
    """A new float32 tensor shaped like tensor ``index`` (which keeps its quantization); returns its index."""
    from ai_edge_litert import schema_py_generated as schema

    integer = graph.tensors[index]
    twin = schema.TensorT()
    twin.shape, twin.shapeSignature = integer.shape, integer.shapeSignature
    twin.type, twin.name = schema.TensorType.FLOAT32, integer.name
    integer.name = integer.name + b"_int"
    model.buffers.append(schema.BufferT())  # an activation: an empty buffer of its own
    twin.buffer = len(model.buffers) - 1
    graph.tensors.append(twin)
    return len(graph.tensors) - 1


def _operator(model: Any, builtin: int, source: int, destination: int) -> Any:
    """An operator ``builtin(source) -> destination``, its operator code added to the model when missing."""
    from ai_edge_litert import schema_py_generated as schema

    codes = model.operatorCodes
    found = [i for i, c in enumerate(codes) if max(c.builtinCode, c.deprecatedBuiltinCode) == builtin]
    if not found:
        code = schema.OperatorCodeT()
        code.builtinCode, code.deprecatedBuiltinCode, code.version = builtin, min(builtin, 127), 2
        codes.append(code)
        found = [len(codes) - 1]
    operator = schema.OperatorT()
    operator.opcodeIndex, operator.inputs, operator.outputs = found[0], [source], [destination]
    return operator


def litert_input_quantization(path: Path) -> dict[str, Any] | None:
    """A model with integer input (``--integer-io``): its dtype, scale and zero point, else ``None`` (float32)."""
    from ai_edge_litert.interpreter import Interpreter

    details = Interpreter(model_path=str(path)).get_input_details()[0]
    if details["dtype"] == np.float32:
        return None
    scale, zero = details["quantization"]
    return {"dtype": np.dtype(details["dtype"]).name, "scale": float(scale), "zero_point": int(zero)}


def litert_delegation(path: Path) -> dict[str, Any]:
    """Op counts of the converted model: LiteRT applies XNNPACK at load time, so count the ops it lists."""
    from ai_edge_litert.interpreter import Interpreter

    # No public API lists a model's operators (the Interpreter exposes tensors only); this private one has kept its
    # shape since TFLite 2.4, and the manifest's delegation record is all that depends on it.
    ops = Interpreter(model_path=str(path))._get_ops_details()
    kinds: dict[str, int] = {}
    for op in ops:
        kinds[op["op_name"]] = kinds.get(op["op_name"], 0) + 1
    return {"ops": len(ops), "op_types": dict(sorted(kinds.items()))}


def write_tflite_metadata(path: Path, metadata: dict[str, str]) -> None:
    """Add ``metadata`` as JSON in a metadata buffer named ``fitedge`` to the ``.tflite`` at ``path``, in place.

    The flatbuffer is unpacked and packed again with the schema's object API (as TFLite's own metadata
    writer does): entries cannot be appended to a finished flatbuffer.
    """
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(path.read_bytes(), 0)
    check_inline_weights(model, path)
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(metadata, sort_keys=True).encode(), dtype=np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = METADATA_NAME, len(model.buffers) - 1
    model.metadata = [*(model.metadata or []), entry]
    write_model(model, path)


def check_inline_weights(model: Any, path: Path) -> None:
    """Refuse to rewrite a model whose weights the object API would drop when packing it again."""
    if any(b.offset for b in model.buffers):
        # Weights stored after the flatbuffer (models over 2 GB) would be lost by packing the tables again.
        raise ExportError(f"{path.name}: its weights are stored outside the flatbuffer; cannot rewrite it")


def write_model(model: Any, path: Path) -> None:
    """Pack the object-API ``model`` back into the flatbuffer file ``path``."""
    import flatbuffers

    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=TFLITE_FILE_IDENTIFIER)
    path.write_bytes(builder.Output())


def read_tflite_metadata(path: Path) -> dict[str, str]:
    """The ``fitedge`` metadata of the ``.tflite`` at ``path`` (``{}`` when it has none)."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.Model.GetRootAs(path.read_bytes(), 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if entry.Name() == METADATA_NAME.encode():
            return json.loads(model.Buffers(entry.Buffer()).DataAsNumpy().tobytes())
    return {}
