"""``--onnx-int8 dynamic``: each row of a linear's input gets its own int8 scale, written with standard ONNX ops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from fitedge.quantize.onnx_rows import quantize_rows

DIM = 16  # a product's input and output width, so that products can chain
# Frames of very different loudness, and a silent one.
ROW_SCALES = np.array([1e3, 1.0, 1e-3, 0.0], np.float32)


def write_graph(path: Path, products: list[tuple[str, str, str]], outputs: list[str], seed: int = 0) -> dict:
    """A graph of ``MatMul(input, weight) -> output`` products over input ``x``; returns the weights."""
    rng = np.random.default_rng(seed)
    weights = {w: rng.standard_normal((DIM, DIM)).astype(np.float32) for _, w, _ in products}
    nodes = [helper.make_node("MatMul", [x, w], [y], name=f"mm_{y}") for x, w, y in products]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, len(ROW_SCALES), DIM])],
        [helper.make_tensor_value_info(y, TensorProto.FLOAT, [1, len(ROW_SCALES), DIM]) for y in outputs],
        [numpy_helper.from_array(v, k) for k, v in weights.items()])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))
    return weights


def run(path: Path, x: np.ndarray) -> list[np.ndarray]:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})


def op_types(path: Path) -> list[str]:
    return [node.op_type for node in onnx.load(str(path)).graph.node]


def loud_quiet_and_silent_frames() -> np.ndarray:
    rng = np.random.default_rng(1)
    return (rng.standard_normal((1, len(ROW_SCALES), DIM)) * ROW_SCALES[None, :, None]).astype(np.float32)


def row_errors(y: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Each row's error relative to that row's own size."""
    return np.linalg.norm(y - reference, axis=-1)[0] / np.maximum(np.linalg.norm(reference, axis=-1)[0], 1e-30)


def test_a_quiet_frame_keeps_its_resolution_beside_a_loud_one(tmp_path: Path) -> None:
    weights = write_graph(tmp_path / "f.onnx", [("x", "w", "y")], ["y"])
    assert quantize_rows(tmp_path / "f.onnx", tmp_path / "q.onnx") == 1
    assert "MatMul" not in op_types(tmp_path / "q.onnx") and "MatMulInteger" in op_types(tmp_path / "q.onnx")
    x = loud_quiet_and_silent_frames()
    reference = x @ weights["w"]
    (y,) = run(tmp_path / "q.onnx", x)
    errors = row_errors(y, reference)
    assert np.all(errors[:3] < 0.02), errors  # int8 on each row's own scale: about 1% everywhere
    assert np.array_equal(y[0, 3], np.zeros(DIM, np.float32))  # silence stays exactly silent
    # One scale for the whole tensor, as ONNX Runtime's own dynamic quantizer gives, loses the quiet frame.
    scale = np.abs(x).max() / 127
    per_tensor = row_errors(np.round(x / scale) * scale @ weights["w"], reference)
    assert per_tensor[2] > 0.5, per_tensor


def test_products_of_one_input_share_its_quantized_copy(tmp_path: Path) -> None:
    products = [("x", "wq", "q"), ("x", "wk", "k"), ("x", "wv", "v")]
    weights = write_graph(tmp_path / "f.onnx", products, ["q", "k", "v"])
    assert quantize_rows(tmp_path / "f.onnx", tmp_path / "q.onnx") == 3
    types = op_types(tmp_path / "q.onnx")
    assert types.count("ReduceMax") == 1 and types.count("MatMulInteger") == 3
    x = loud_quiet_and_silent_frames()
    for y, (_, w, _) in zip(run(tmp_path / "q.onnx", x), products, strict=True):
        assert np.all(row_errors(y, x @ weights[w])[:3] < 0.02)


def test_a_head_on_a_model_output_and_excluded_products_stay_float(tmp_path: Path) -> None:
    # "h" reads "y", itself a model output: a task head on the encoder's output.
    products = [("x", "w", "y"), ("y", "wh", "logits"), ("x", "wf", "kept")]
    write_graph(tmp_path / "f.onnx", products, ["y", "logits", "kept"])
    assert quantize_rows(tmp_path / "f.onnx", tmp_path / "q.onnx", excluded={"mm_kept"}) == 1
    graph = onnx.load(str(tmp_path / "q.onnx")).graph
    float_products = {node.name for node in graph.node if node.op_type == "MatMul"}
    assert float_products == {"mm_logits", "mm_kept"}
    assert {init.name for init in graph.initializer} >= {"wh", "wf"}  # their float weights kept
    assert "w" not in {init.name for init in graph.initializer}  # the quantized one's float weight dropped
    assert len(run(tmp_path / "q.onnx", loud_quiet_and_silent_frames())) == 3


@pytest.mark.parametrize("opset", [17, 18])
def test_reduce_max_is_written_for_the_models_opset(tmp_path: Path, opset: int) -> None:
    weights = write_graph(tmp_path / "f.onnx", [("x", "w", "y")], ["y"])
    model = onnx.load(str(tmp_path / "f.onnx"))
    model.opset_import[0].version = opset
    onnx.save(model, str(tmp_path / "f.onnx"))
    quantize_rows(tmp_path / "f.onnx", tmp_path / "q.onnx")
    x = loud_quiet_and_silent_frames()
    assert np.all(row_errors(run(tmp_path / "q.onnx", x)[0], x @ weights["w"])[:3] < 0.02)
