"""One real export of the ``tiny`` preset to all six artifacts, checked through their real runtimes.

The bundle is built once per module (1 s of audio, bounded dynamic length, every hidden state as output,
the first conv kept float) and every test reads it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from fitedge.edge import runtime
from fitedge.edge.bundle.manifest import read_bundle_manifest, sha256_file
from fitedge.edge.export.options import ExportOptions
from fitedge.edge.export.pipeline import export_bundle
from fitedge.errors import BundleError, ShapeMismatch
from tests.helpers.cli import assert_one_line_error, run_cli

DYNAMIC = (8000, 24000)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("export")
    options = ExportOptions(seconds=1.0, dynamic=DYNAMIC, outputs="all", calib_windows=3, timing_runs=2, threads=2,
                            keep_float=("feature_extractor.conv_layers.0",), android=root / "assets" / "bundle",
                            etrecord=True)
    export_bundle("tiny", root / "bundle", options)
    return root / "bundle"


@pytest.fixture(scope="module")
def manifest(bundle: Path) -> dict:
    return read_bundle_manifest(bundle)


def test_manifest_follows_the_contract(bundle: Path, manifest: dict) -> None:
    assert manifest["schema"] == "fitedge.bundle" and manifest["schema_version"] == 1
    model = manifest["model"]
    assert model["source"] == "preset:tiny" and model["trained"] is False and len(model["weights_sha256"]) == 64
    assert model["config"]["dim"] == 64 and model["parameters"] > 0
    audio = manifest["audio"]
    assert audio["dynamic"] is True and (audio["min_samples"], audio["max_samples"]) == DYNAMIC
    grid = audio["length_grid"]
    assert (audio["input_samples"] - grid["offset"]) % grid["multiple"] == 0 and audio["input_samples"] <= 16000
    assert [o["name"] for o in manifest["outputs"]] == ["hidden_state_0", "hidden_state_1", "hidden_state_2"]
    assert [o["layer"] for o in manifest["outputs"]] == [0, 1, 2]
    assert all(o["frame_hop_ms"] == 20.0 for o in manifest["outputs"])
    assert "espeak-ng" in manifest["calibration"]["source"]
    files = sorted(a["file"] for a in manifest["artifacts"])
    assert files == sorted(f"tiny_{p}.{t}" for t in ("pte", "tflite", "onnx") for p in ("fp32", "int8"))
    for a in manifest["artifacts"]:
        assert a["bytes"] == (bundle / a["file"]).stat().st_size and a["sha256"] == sha256_file(bundle / a["file"])
        # TFLite and the int8 .pte static, the others bounded dynamic
        assert a["static"] is (a["runtime"] == "litert" or a["file"] == "tiny_int8.pte")
        assert a["latency_ms"] > 0 and a["runtime_version"]
        assert a["keep_float"] == (["feature_extractor.conv_layers.0"] if a["precision"] == "int8" else [])
    assert not list(bundle.parent.glob(".bundle.*")), "temporary folders left behind"


def test_every_file_describes_itself(bundle: Path, manifest: dict) -> None:
    import onnx
    from executorch.devtools.etrecord import parse_etrecord

    from fitedge import __version__
    from fitedge.edge.lower.litert import read_tflite_metadata

    expected = {"model_type": "fitedge-encoder", "version": "1", "model_name": "tiny", "model_source": "preset:tiny",
                "fitedge_version": __version__, "sample_rate": "16000", "frame_hop_ms": "20.0", "input_name": "wav",
                "output_names": "hidden_state_0,hidden_state_1,hidden_state_2", "output_layers": "0,1,2",
                "output_frame_hops_ms": "20.0,20.0,20.0"}
    for a in manifest["artifacts"]:
        path = bundle / a["file"]
        if a["runtime"] == "executorch":  # no metadata field in a .pte: its ETRecord is kept beside it instead
            etrecord = bundle / a["etrecord"]["file"]
            assert (a["etrecord"]["sha256"], a["etrecord"]["bytes"]) == (sha256_file(etrecord), etrecord.stat().st_size)
            assert parse_etrecord(str(etrecord)).edge_dialect_program is not None
            continue
        if a["runtime"] == "onnxruntime":  # int8 included: written after onnxruntime's quantizer
            fields = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
        else:
            fields = read_tflite_metadata(path)
        assert expected.items() <= fields.items(), a["file"]
        assert (fields["precision"], fields["recipe"]) == (a["precision"], a["recipe"]), a["file"]


def test_every_artifact_matches_eager_through_its_runtime(bundle: Path, manifest: dict) -> None:
    golden_in = np.load(bundle / "golden" / "input.npy")
    golden = {o["name"]: np.load(bundle / manifest["golden"]["outputs"][o["name"]]["npy"]) for o in manifest["outputs"]}
    kinds = {".pte": "executorch", ".tflite": "litert", ".onnx": "onnxruntime"}
    for a in manifest["artifacts"]:
        runner = runtime.load(bundle / a["file"], threads=1)
        assert runner.runtime == kinds[Path(a["file"]).suffix] and runner.output_names == list(golden)
        out = runner.run(golden_in)
        for name, ref in golden.items():
            assert out[name].shape == ref.shape
            if a["precision"] == "fp32":
                assert cosine(out[name], ref) >= 0.99999 and np.abs(out[name] - ref).max() <= 1e-3, a["file"]
            else:
                assert cosine(out[name], ref) >= 0.98, a["file"]
                assert np.abs(out[name] - ref).max() > 1e-6, f"{a['file']} is not quantized at all"
        recorded = a["parity"]
        assert recorded["cosine"] >= (0.99999 if a["precision"] == "fp32" else 0.98)
        assert "held-out" in recorded["audio"] if a["precision"] == "int8" else recorded["audio"] == "golden"


def test_golden_bin_files_are_raw_little_endian_float32(bundle: Path, manifest: dict) -> None:
    entries = [manifest["golden"]["input"], *manifest["golden"]["outputs"].values()]
    for entry in entries:
        raw = np.fromfile(bundle / entry["bin"], dtype="<f4").reshape(entry["shape"])
        np.testing.assert_array_equal(raw, np.load(bundle / entry["npy"]))
    assert manifest["golden"]["input"]["shape"] == [1, manifest["audio"]["input_samples"]]


def test_dynamic_artifacts_take_other_lengths_and_tflite_stays_static(bundle: Path) -> None:
    wav = np.random.default_rng(0).standard_normal(DYNAMIC[1]).astype(np.float32) * 0.1
    for name in ("tiny_fp32.pte", "tiny_fp32.onnx", "tiny_int8.onnx"):
        runner = runtime.load(bundle / name)
        assert runner.input_samples is None and (runner.min_samples, runner.max_samples) == DYNAMIC
        frames = [runner.run(wav[:n])["hidden_state_2"].shape[1] for n in (DYNAMIC[0], DYNAMIC[1])]
        assert frames == [(DYNAMIC[0] - 400) // 320 + 1, (DYNAMIC[1] - 400) // 320 + 1]
        with pytest.raises(ShapeMismatch, match="at most"):
            runner.run(np.zeros(DYNAMIC[1] + 1, np.float32))
    for name in ("tiny_fp32.tflite", "tiny_int8.pte"):
        with pytest.raises(ShapeMismatch, match="exactly"):
            runtime.load(bundle / name).run(wav[:DYNAMIC[0]])


def test_dynamic_pte_matches_eager_at_another_length(bundle: Path) -> None:
    """The float .pte on a shorter clip against the eager model rebuilt from the bundle's own golden run."""
    wav = np.load(bundle / "golden" / "input.npy")[:, :DYNAMIC[0] + 80]  # on the grid: 80 + 320 k
    pte = runtime.load(bundle / "tiny_fp32.pte").run(wav)
    onnx = runtime.load(bundle / "tiny_fp32.onnx").run(wav)
    for name in pte:
        assert np.abs(pte[name] - onnx[name]).max() <= 1e-3


def test_keep_float_leaves_the_first_conv_float(bundle: Path) -> None:
    import onnx

    graph = onnx.load(str(bundle / "tiny_int8.onnx")).graph
    producers = {out: node.op_type for node in graph.node for out in node.output}
    convs = [n for n in graph.node if n.op_type == "Conv"]
    weight_sources = [producers.get(n.input[1], "initializer") for n in convs]
    assert weight_sources[0] == "initializer", "the kept conv should read its float weight directly"
    assert "DequantizeLinear" in weight_sources[1:], "the other convs should be int8"

    from ai_edge_litert.interpreter import Interpreter

    tflite = Interpreter(model_path=str(bundle / "tiny_int8.tflite"))
    tensors = {t["index"]: t for t in tflite.get_tensor_details()}
    conv_weights = [tensors[op["inputs"][1]]["dtype"] for op in tflite._get_ops_details()
                    if op["op_name"] in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    assert conv_weights[0] == np.float32 and all(w == np.int8 for w in conv_weights[1:]), conv_weights


def test_onnx_graphs_are_fused_and_attention_stays_float(bundle: Path) -> None:
    """GELU and residual LayerNorm are single ORT kernels; int8 quantizes weight products, not attention."""
    import onnx

    for name in ("tiny_fp32.onnx", "tiny_int8.onnx"):
        ops = {node.op_type for node in onnx.load(str(bundle / name)).graph.node}
        assert "Erf" not in ops and {"BiasGelu", "SkipLayerNormalization"} <= ops, (name, sorted(ops))
    graph = onnx.load(str(bundle / "tiny_int8.onnx")).graph
    producers = {out: node.op_type for node in graph.node for out in node.output}
    matmuls = [[producers.get(i, "initializer") for i in n.input] for n in graph.node if n.op_type == "MatMul"]
    weighted = [m for m in matmuls if m[1] == "DequantizeLinear"]
    attention = [m for m in matmuls if "initializer" not in m and "DequantizeLinear" not in m]
    assert weighted and attention, matmuls  # int8 projections, float attention products
    assert not any("DequantizeLinear" in m[0] for m in attention)


def test_executorch_graphs_stay_inside_xnnpack(manifest: dict) -> None:
    """No LayerNorm/GroupNorm/attention op outside the delegate; the static int8 graph is one partition."""
    pte = {a["file"]: a["delegation"] for a in manifest["artifacts"] if a["runtime"] == "executorch"}
    assert pte["tiny_int8.pte"]["partitions"] == 1
    for delegation in pte.values():
        assert not any(k in op for op in delegation["non_delegated_ops"] for k in ("norm", "expand", "bmm"))
        assert delegation["delegated_nodes"] > 5 * delegation["non_delegated_nodes"]


def test_verify_passes_and_catches_tampering(bundle: Path, tmp_path: Path) -> None:
    ok = run_cli("verify", str(bundle), "--json")
    assert ok.exit_code == 0, ok.output
    report = json.loads(ok.stdout)
    assert report["cpu"]["class"].startswith(("x86-64", "arm64")) and all(a["ok"] for a in report["artifacts"])
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    data = bytearray((copy / "tiny_int8.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "tiny_int8.onnx").write_bytes(bytes(data))
    assert_one_line_error(run_cli("verify", str(copy)), "1 of 6 artifacts failed", "tiny_int8.onnx")
    (copy / "golden" / "input.bin").write_bytes(b"\0" * 16)
    assert_one_line_error(run_cli("verify", str(copy)), "input.bin", "sha256")


def test_android_copy_and_report(bundle: Path, manifest: dict) -> None:
    copy = bundle.parent / "assets" / "bundle"
    assert json.loads((copy / "manifest.json").read_text()) == manifest
    assert sorted(p.name for p in copy.iterdir()) == sorted(p.name for p in bundle.iterdir() if p.suffix != ".etrecord")
    report = (bundle / "report.md").read_text()
    assert "UNTRAINED" in report
    for a in manifest["artifacts"]:
        row = next(line for line in report.splitlines() if line.startswith(f"| {a['file']} "))
        assert f"{a['latency_ms']:.1f}" in row and a["recipe"] in row


def test_an_existing_bundle_is_not_overwritten_without_force(bundle: Path) -> None:
    before = sha256_file(bundle / "manifest.json")
    with pytest.raises(BundleError, match="exists; pass --force"):
        export_bundle("tiny", bundle, ExportOptions(seconds=0.5))
    assert sha256_file(bundle / "manifest.json") == before
