"""``--litert-int8 dynamic-linears``: int8 weights in the float model's linears only, so that LiteRT quantizes each
frame's input to a linear on its own scale, and every conv stays float."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import Interpreter
from torch import nn

from fitedge.edge.export.options import ExportOptions
from fitedge.edge.export.pipeline import export_bundle
from fitedge.edge.lower.litert import lower_to_tflite
from fitedge.edge.lower.litert_rows import quantize_linears

FRAMES, DIM = 4, 32
# Frames of very different loudness, and a silent one.
ROW_SCALES = np.array([1e3, 1.0, 1e-3, 0.0], np.float32)


class ConvThenLinears(nn.Module):
    """A conv over time, and two linears, the second writing a model output (as a head does). No biases: a
    frame's output is then as quiet as the frame, and one scale for all frames would round it to nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(DIM, DIM, 3, padding=1)
        self.hidden = nn.Linear(DIM, DIM, bias=False)
        self.head = nn.Linear(DIM, DIM, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        frames = x.reshape(1, FRAMES, DIM)
        conv = self.conv(frames.transpose(1, 2)).transpose(1, 2)
        return conv, self.head(self.hidden(frames))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, nn.Module]:
    folder = tmp_path_factory.mktemp("rows")
    torch.manual_seed(0)
    model = ConvThenLinears().eval()
    lower_to_tflite(model, FRAMES * DIM, folder / "f.tflite")
    assert quantize_linears(folder / "f.tflite", folder / "q.tflite") == 1
    return folder / "f.tflite", folder / "q.tflite", model


def weight_types(path: Path) -> dict[str, list[int]]:
    """Each weighted op's weight tensor types, by op name."""
    model = schema.ModelT.InitFromPackedBuf(path.read_bytes(), 0)
    graph, names = model.subgraphs[0], {v: k for k, v in vars(schema.BuiltinOperator).items() if k.isupper()}
    types: dict[str, list[int]] = {}
    for op in graph.operators:
        name = names[max(model.operatorCodes[op.opcodeIndex].builtinCode,
                         model.operatorCodes[op.opcodeIndex].deprecatedBuiltinCode)]
        if name in ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D"):
            types.setdefault(name, []).append(graph.tensors[op.inputs[1]].type)
    return types


def run(path: Path, x: np.ndarray) -> list[np.ndarray]:
    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


def test_only_the_hidden_linear_gets_int8_weights(files: tuple[Path, Path, nn.Module]) -> None:
    original, quantized, _ = files
    assert weight_types(original)["FULLY_CONNECTED"] == [schema.TensorType.FLOAT32] * 2
    types = weight_types(quantized)
    assert sorted(types["FULLY_CONNECTED"]) == sorted([schema.TensorType.INT8, schema.TensorType.FLOAT32])
    assert all(t == schema.TensorType.FLOAT32 for kind in ("CONV_2D", "DEPTHWISE_CONV_2D") for t in types.get(kind, []))
    assert quantized.stat().st_size < original.stat().st_size


def test_a_quiet_frame_keeps_its_resolution_beside_a_loud_one(files: tuple[Path, Path, nn.Module]) -> None:
    _, quantized, model = files
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((FRAMES, DIM)) * ROW_SCALES[:, None]).astype(np.float32).reshape(1, -1)
    with torch.no_grad():
        conv, head = (t.numpy()[0] for t in model(torch.from_numpy(x)))
    results = [y[0] for y in run(quantized, x)]
    by_conv = min(range(2), key=lambda i: np.abs(results[i] - conv).max())
    assert np.allclose(results[by_conv], conv, rtol=1e-4, atol=1e-4)  # the conv stays float
    got = results[1 - by_conv]
    errors = np.linalg.norm(got - head, axis=-1)[:3] / np.linalg.norm(head, axis=-1)[:3]
    assert np.all(errors < 0.05), errors  # int8 on each frame's own scale: a few % everywhere
    assert np.array_equal(got[3], np.zeros(DIM, np.float32))  # silence stays exactly silent
    # One scale for all frames loses the quiet one: what a per-tensor recipe would give.
    hidden, weight = x.reshape(FRAMES, DIM), model.hidden.weight.detach().numpy()
    scale = np.abs(hidden).max() / 127
    per_tensor = (np.round(hidden / scale) * scale) @ weight.T @ model.head.weight.detach().numpy().T
    assert np.linalg.norm(per_tensor[2] - head[2]) / np.linalg.norm(head[2]) > 0.5


def test_float_blocks_with_linears_switch_it_to_static_and_conv_blocks_do_not(tmp_path: Path) -> None:
    recipes = {}
    for kept in ("feature_extractor.conv_layers.1", "encoder.layers.0"):
        options = ExportOptions(targets=("tflite",), precisions=("int8",), seconds=0.5, calib_windows=2, timing_runs=0,
                                int8="plain", litert_int8="dynamic-linears", keep_float=(kept,), allow_degraded=True)
        artifact = export_bundle("tiny", tmp_path / kept, options)["artifacts"][0]
        recipes[kept] = artifact["recipe"], "calibration" in artifact
    assert recipes == {"feature_extractor.conv_layers.1": ("litert-dynamic-per-row-linears", False),
                       "encoder.layers.0": ("pt2e-litert-static-per-channel", True)}
