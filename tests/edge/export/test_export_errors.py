"""Bad input to ``fitedge export``/``verify`` and the runtime loader: one-line errors, no partial bundle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from fitedge.edge import runtime
from fitedge.edge.export.options import ExportOptions
from fitedge.edge.export.pipeline import export_bundle
from fitedge.errors import BundleError, ConfigError, ShapeMismatch
from tests.helpers.cli import assert_one_line_error, no_leftovers, run_cli
from tests.helpers.models import tiny_checkpoint
from tests.helpers.speech import write_texts

FAST = ("--seconds", "0.5", "--calib-windows", "2", "--timing-runs", "0")


@pytest.mark.parametrize("args, needles", [
    (("--targets", "pte,coreml"), ("--targets", "coreml")),
    (("--precision", "int4"), ("--precision", "int4")),
    (("--precision", "fp32", "--keep-float", "encoder.layers.0"), ("--keep-float", "int8")),
    (("--dynamic", "abc"), ("--dynamic",)),
    (("--dynamic", "32000:8000"), ("--dynamic",)),
    (("--seconds", "4", "--dynamic", "8000:16000"), ("outside --dynamic",)),
    (("--seconds", "0.01",), ("too short",)),
    (("--outputs", "7"), ("--outputs", "0..2")),
    (("--outputs", "final_proj"), ("final_proj",)),
    (("--targets", "onnx", "--precision", "int8", "--keep-float", "encoder.nothing*"), ("matches no module",)),
])
def test_bad_options_fail_in_one_line_without_a_bundle(tmp_path: Path, args: tuple, needles: tuple) -> None:
    result = run_cli("export", "tiny", "--out", str(tmp_path / "b"), *FAST, *args)
    assert_one_line_error(result, *needles)
    assert no_leftovers(tmp_path, "b")


def test_an_existing_folder_is_kept_without_force(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "manifest.json").write_text("{}")
    assert_one_line_error(run_cli("export", "tiny", "--out", str(tmp_path / "b")), "exists", "--force")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "notes.txt").write_text("mine")
    assert_one_line_error(run_cli("export", "tiny", "--out", str(tmp_path / "c"), "--force"), "not a fitedge bundle")
    assert (tmp_path / "b" / "manifest.json").read_text() == "{}" and (tmp_path / "c" / "notes.txt").is_file()


def test_missing_and_corrupted_models(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("export", str(tmp_path / "nope"), "--out", str(tmp_path / "b")), "no such file")
    ckpt = tiny_checkpoint(tmp_path / "ckpt")
    (ckpt / "model.safetensors").write_bytes(b"not a safetensors file")
    assert_one_line_error(run_cli("export", str(ckpt), "--out", str(tmp_path / "b"), *FAST), "model.safetensors")
    assert no_leftovers(tmp_path, "b")


def test_empty_or_unreadable_calibration_audio(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    base = ("export", "tiny", "--out", str(tmp_path / "b"), "--targets", "onnx", *FAST)
    assert_one_line_error(run_cli(*base, "--calib", str(tmp_path / "empty")), "no audio files")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.wav").write_bytes(b"RIFF....garbage")
    assert_one_line_error(run_cli(*base, "--calib", str(tmp_path / "bad")), "no readable audio")
    assert no_leftovers(tmp_path, "b")


def test_a_runtime_that_fails_to_lower_leaves_no_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import litert_torch

    def broken_convert(*args, **kwargs):
        raise RuntimeError("failed to legalize operation 'tfl.fancy_op'\nmore details")

    monkeypatch.setattr(litert_torch, "convert", broken_convert)
    result = run_cli("export", "tiny", "--out", str(tmp_path / "b"), "--targets", "onnx,tflite", "--precision", "fp32",
                     *FAST)
    assert_one_line_error(result, "LiteRT conversion failed", "tfl.fancy_op")
    assert no_leftovers(tmp_path, "b")


def test_an_interrupted_export_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fitedge.edge.lower.onnx as lower_onnx

    real = lower_onnx.lower_to_onnx
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:  # the first artifact is written, then Ctrl-C during the second
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(lower_onnx, "lower_to_onnx", interrupted)
    options = ExportOptions(targets=("onnx",), seconds=0.5, calib_windows=2, timing_runs=0)
    with pytest.raises(KeyboardInterrupt):
        export_bundle("tiny", tmp_path / "b", options)
    assert len(calls) == 2 and list(tmp_path.iterdir()) == []


def test_final_proj_head_of_a_checkpoint(tmp_path: Path) -> None:
    torch.manual_seed(1)
    heads = {"final_proj.upsampler.weight": torch.randn(64, 64, 2) * 0.1, "final_proj.upsampler.bias": torch.zeros(64),
             "final_proj.lin_proj.weight": torch.randn(768, 64) * 0.1, "final_proj.lin_proj.bias": torch.zeros(768)}
    ckpt = tiny_checkpoint(tmp_path / "student", time_reduction="conv1d", heads=heads)
    result = run_cli("export", str(ckpt), "--out", str(tmp_path / "b"), "--targets", "onnx", "--precision", "fp32",
                     "--outputs", "final_proj", "--json", *FAST)
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "b" / "manifest.json").read_text())
    frames = (8000 - 400) // 320 + 1
    assert doc["outputs"] == [{"name": "final_proj", "shape": [1, 2 * (frames // 2), 768], "layer": None,
                               "frame_hop_ms": 20.0}]
    assert doc["time_reduction_factor"] == 2 and doc["model"]["trained"] is True
    out = runtime.load(tmp_path / "b" / "student_fp32.onnx").run(np.load(tmp_path / "b" / "golden" / "input.npy"))
    assert out["final_proj"].shape == (1, 2 * (frames // 2), 768)
    assert_one_line_error(run_cli("export", str(tiny_checkpoint(tmp_path / "plain")), "--out", str(tmp_path / "c"),
                                  "--outputs", "final_proj", *FAST), "no final_proj head")


def test_runtime_loader_errors(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no such artifact"):
        runtime.load(tmp_path / "missing.pte")
    for suffix in (".pte", ".tflite", ".onnx"):
        (tmp_path / f"junk{suffix}").write_bytes(b"\x00garbage" * 64)
        with pytest.raises(BundleError, match="cannot load it"):
            runtime.load(tmp_path / f"junk{suffix}")
    with pytest.raises(ConfigError, match="unknown options"):
        runtime.load("tiny", output_names=["x"])
    eager = runtime.load("tiny", outputs="0,2", input_samples=8000)
    assert eager.runtime == "eager" and eager.output_names == ["hidden_state_0", "hidden_state_2"]
    with pytest.raises(ShapeMismatch, match="exactly 8000"):
        eager.run(np.zeros(7999, np.float32))
    with pytest.raises(ShapeMismatch, match="shape"):
        eager.run(np.zeros((2, 8000), np.float32))


def test_verify_rejects_a_folder_that_is_not_a_bundle(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("verify", str(tmp_path)), "not a fitedge bundle")
    (tmp_path / "manifest.json").write_text(json.dumps({"schema": "other"}))
    assert_one_line_error(run_cli("verify", str(tmp_path)), "not a fitedge.bundle manifest")


def test_user_calibration_folder_is_used_and_described(tmp_path: Path) -> None:
    write_texts(tmp_path / "calib", ("one two three four five", "the cat sat on the mat", "seven green bottles"))
    options = ExportOptions(targets=("onnx",), precisions=("int8",), seconds=0.5, calib_windows=2, timing_runs=0,
                            calib=str(tmp_path / "calib"))
    doc = export_bundle("tiny", tmp_path / "b", options)
    assert doc["calibration"]["source"] == f"--calib {tmp_path / 'calib'}" and doc["calibration"]["utterances"] == 3
    assert doc["artifacts"][0]["parity"]["cosine"] >= 0.98
