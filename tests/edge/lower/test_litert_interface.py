"""LiteRT static int8 keeps the one artifact contract: float32 audio in, float32 out, unless --integer-io asks.

litert-torch folds the first activation quantization of a fully-quantized model into its input; the export puts a
QUANTIZE op in front instead. Both files are checked through LiteRT's own input/output details, and the two give the
same outputs, since the quantization is the same arithmetic inside the graph or in the runner.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from fitedge.edge import runtime
from fitedge.edge.export.options import ExportOptions
from fitedge.edge.export.pipeline import export_bundle


def export_static_int8(folder: Path, integer_io: bool) -> dict:
    options = ExportOptions(targets=("tflite",), precisions=("int8",), seconds=0.5, calib_windows=2, timing_runs=0,
                            litert_int8="static", int8="plain", integer_io=integer_io)
    return export_bundle("tiny", folder, options)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> dict[bool, tuple[Path, dict]]:
    root = tmp_path_factory.mktemp("litert_io")
    return {io: (root / f"io_{io}", export_static_int8(root / f"io_{io}", io)) for io in (False, True)}


def io_types(path: Path) -> tuple[list, list]:
    interpreter = Interpreter(model_path=str(path))
    return ([d["dtype"] for d in interpreter.get_input_details()],
            [d["dtype"] for d in interpreter.get_output_details()])


def test_static_int8_takes_and_returns_float32_by_default(bundles) -> None:
    folder, doc = bundles[False]
    entry = doc["artifacts"][0]
    assert entry["recipe"] == "pt2e-litert-static-per-channel"
    assert io_types(folder / entry["file"]) == ([np.float32], [np.float32])
    assert entry["input_quantization"] is None


def test_integer_io_keeps_int8_input_and_records_how_to_feed_it(bundles) -> None:
    folder, doc = bundles[True]
    entry = doc["artifacts"][0]
    assert io_types(folder / entry["file"]) == ([np.int8], [np.float32])
    quantization = entry["input_quantization"]
    assert quantization["dtype"] == "int8" and quantization["scale"] > 0


def test_both_interfaces_give_the_same_outputs(bundles) -> None:
    wav = np.random.default_rng(0).standard_normal(8000).astype(np.float32) * 0.1
    outputs = [runtime.load(folder / doc["artifacts"][0]["file"]).run(wav)["last_hidden_state"]
               for folder, doc in bundles.values()]
    assert np.abs(outputs[0]).max() > 0
    np.testing.assert_array_equal(outputs[0], outputs[1])
