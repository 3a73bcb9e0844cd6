"""The Android app's plain-Java core (android_demo/core), checked from Python.

1. Its JUnit suite passes (built with javac + Debian's junit4/gson by ``android_demo/core/run_tests.sh``).
2. On a bundle exported here by ``fitedge.edge.export.pipeline`` from the tiny preset, the Java CLI parses the
   manifest, verifies every sha256, reads the golden tensors, and its statistics, cosine, max abs diff and SNR
   agree with NumPy's.
3. The results JSON the Java core writes (contract 3) parses in Python with NumPy-identical statistics, and
   ``fitedge bench``'s reader for phone results accepts it.
4. The core's FrameStream and CtcGreedy reproduce the Python stream on the same WAV: the streaming contract's
   cross-language vectors, written here by :func:`tests.helpers.streaming.write_stream_vectors` (fitedge's own
   ``Stream`` over the contract's fake model) and handed over as ``FITEDGE_STREAM_VECTORS``.
No skips: without a JDK or the Debian jars the tests fail and say what to install.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import REPO

RUN_TESTS = REPO / "android_demo" / "core" / "run_tests.sh"
TOL = 1e-5


@pytest.fixture(scope="module")
def java_core(tmp_path_factory, request) -> tuple[subprocess.CompletedProcess, str]:
    """Builds the core and runs its JUnit tests once; returns the run and the classpath of the built core."""
    if shutil.which("javac") is None or shutil.which("java") is None:
        pytest.fail("javac/java not found: install a JDK 17 (apt-get install openjdk-17-jdk-headless)")
    build = tmp_path_factory.mktemp("android_core_build")
    args = ["bash", str(RUN_TESTS), str(build)]
    env = {**os.environ, "FITEDGE_STREAM_VECTORS": str(request.getfixturevalue("stream_vectors"))}
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as running:
        request.getfixturevalue("bundle")  # export the bundle while javac works: each takes ~15 s
        stdout, stderr = running.communicate(timeout=120)
    classpath_file = build / "classpath"
    if not classpath_file.is_file():
        pytest.fail(f"android_demo/core failed to build (`make system` installs junit4 and gson):\n{stdout}{stderr}")
    return subprocess.CompletedProcess(args, running.returncode, stdout, stderr), classpath_file.read_text().strip()


@pytest.fixture(scope="module")
def stream_vectors(tmp_path_factory) -> Path:
    """The Python stream's frames and phonemes on espeak-ng speech fed in uneven pieces (the contract's vectors)."""
    from tests.helpers.streaming import write_stream_vectors

    return write_stream_vectors(tmp_path_factory.mktemp("vectors") / "stream_vectors.json")


def test_java_stream_reproduces_the_python_stream(java_core, stream_vectors):
    proc, _ = java_core
    vectors = json.loads(stream_vectors.read_text())
    frames, phonemes = len(vectors["frames"]), len(vectors["phonemes"])
    assert f"StreamVectorsTest: {frames} frames, {phonemes} phonemes match {stream_vectors}" in proc.stdout, \
        proc.stdout[-2000:]
    hop, receptive = vectors["frame_hop_samples"], vectors["receptive_field_samples"]
    assert frames == (len(vectors["wav"]) - receptive) // hop + 1 and phonemes >= 1


def run_cli(classpath: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["java", "-cp", classpath, "org.fitedge.core.Cli", *args], capture_output=True,
                          text=True, timeout=60)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def numpy_stats(x: np.ndarray) -> dict[str, float]:
    x = x.astype(np.float64).ravel()
    p50, p90, p99 = np.percentile(x, [50, 90, 99])
    return {"mean": x.mean(), "std": x.std(), "min": x.min(), "max": x.max(), "p50": p50, "p90": p90, "p99": p99}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """The app's copy of a real bundle: ``fitedge export tiny --targets onnx --precision fp32 --seconds 1
    --android ASSETS`` (ONNX only because it lowers fastest; the Java side reads every runtime's files alike)."""
    from fitedge.edge.export.options import ExportOptions
    from fitedge.edge.export.pipeline import export_bundle

    root = tmp_path_factory.mktemp("export")
    assets = root / "app" / "src" / "main" / "assets" / "bundle"
    options = ExportOptions(targets=("onnx",), precisions=("fp32",), seconds=1.0, timing_runs=1, android=assets)
    export_bundle("tiny", root / "bundle", options)
    return assets


def test_junit_suite_passes(java_core):
    proc, _ = java_core
    assert proc.returncode == 0, f"JUnit failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    passed = re.search(r"^OK \((\d+) tests\)", proc.stdout, re.M)
    assert passed and int(passed.group(1)) >= 30, proc.stdout[-2000:]


def test_java_verifies_bundle_and_agrees_with_numpy(java_core, bundle):
    _, classpath = java_core
    report = json.loads(run_cli(classpath, "verify", str(bundle)).stdout)
    doc = json.loads((bundle / "manifest.json").read_text())

    assert report["ok"] is True and report["model"] == "tiny"
    listed = {a["file"] for a in doc["artifacts"]} | {
        g[k] for g in [doc["golden"]["input"], *doc["golden"]["outputs"].values()] for k in ("bin", "npy")}
    assert {f["file"] for f in report["files"]} == listed
    for f in report["files"]:
        assert f["actual_sha256"] == sha256(bundle / f["file"])

    arrays = {"input": np.load(bundle / doc["golden"]["input"]["npy"])}
    for name, g in doc["golden"]["outputs"].items():
        arrays[name] = np.load(bundle / g["npy"])
    for name, array in arrays.items():
        java = report["input"] if name == "input" else report["outputs"][name]
        assert java["shape"] == list(array.shape) == java["npy_shape"]
        for key, value in numpy_stats(array).items():
            assert java[key] == pytest.approx(value, abs=TOL), (name, key)
        assert java["npy_vs_bin"]["cosine"] == pytest.approx(1.0, abs=1e-12)
        assert java["npy_vs_bin"]["max_abs_diff"] == 0.0


def test_java_parity_metrics_agree_with_numpy(java_core, bundle, tmp_path):
    _, classpath = java_core
    ref = np.load(bundle / "golden" / "last_hidden_state.npy")
    noisy = (ref + 0.01 * np.random.default_rng(1).standard_normal(ref.shape)).astype(np.float32)
    np.save(tmp_path / "noisy.npy", noisy)
    java = json.loads(run_cli(classpath, "compare", str(bundle / "golden" / "last_hidden_state.npy"),
                              str(tmp_path / "noisy.npy")).stdout)

    r, x = ref.astype(np.float64).ravel(), noisy.astype(np.float64).ravel()
    cosine = r @ x / (np.linalg.norm(r) * np.linalg.norm(x))
    snr = 10 * np.log10((r @ r) / ((r - x) @ (r - x)))
    assert java["cosine"] == pytest.approx(cosine, abs=TOL)
    assert java["cosine"] < 1.0
    assert java["max_abs_diff"] == pytest.approx(np.abs(r - x).max(), abs=TOL)
    assert java["snr_db"] == pytest.approx(snr, abs=TOL)


def test_java_rejects_a_tampered_bundle_in_one_line(java_core, bundle, tmp_path):
    _, classpath = java_core
    copy = shutil.copytree(bundle, tmp_path / "bundle")
    onnx = copy / "tiny_fp32.onnx"
    data = bytearray(onnx.read_bytes())
    data[len(data) // 2] ^= 0xFF
    onnx.write_bytes(bytes(data))
    proc = run_cli(classpath, "verify", str(copy), check=False)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "tiny_fp32.onnx: sha256" in proc.stderr
    assert "Exception" not in proc.stderr


def test_java_results_json_follows_contract_3(java_core, bundle, tmp_path):
    _, classpath = java_core
    timings = np.random.default_rng(2).gamma(4.0, 3.0, size=30).round(3)
    out = tmp_path / "fitedge_bench"
    run_cli(classpath, "bench-json", str(bundle), "tiny_fp32.onnx", "--timings", ",".join(map(str, timings)),
            "--load-ms", "120.5", "--first-ms", "80.25", "--threads", "2", "--warmup", "5", "--out", str(out))

    assert (out / "DONE").is_file()
    results = json.loads((out / "results.json").read_text())
    assert results["schema"] == "fitedge.device_bench" and results["schema_version"] == 1
    assert results["error"] is None and results["app_version"] == "0.1.0"
    assert set(results["device"]) == {"manufacturer", "model", "soc", "android_version", "sdk_int", "abi",
                                      "thermal_status", "cores"}
    assert results["bundle"] == {"path": str(bundle), "model_name": "tiny",
                                 "manifest_sha256": sha256(bundle / "manifest.json")}
    (run,) = results["runs"]
    assert run["artifact"] == "tiny_fp32.onnx" and run["runtime"] == "onnxruntime" and run["precision"] == "fp32"
    assert run["input_samples"] == 16000 and run["audio_seconds"] == 1.0
    assert (run["threads"], run["warmup"], run["iterations"]) == (2, 5, 30)
    assert (run["load_ms"], run["first_inference_ms"]) == (120.5, 80.25)
    assert run["timings_ms"] == pytest.approx(timings.tolist(), abs=1e-12)
    expected = numpy_stats(timings)
    assert set(run["stats"]) == {f"{k}_ms" for k in expected}
    for key, value in expected.items():
        assert run["stats"][f"{key}_ms"] == pytest.approx(value, abs=TOL), key
    assert run["rtf"] == pytest.approx(timings.mean() / 1000.0, abs=TOL)
    assert run["peak_memory_kb"] > 1024
    assert run["error"] is None


def test_bench_reads_what_the_java_core_wrote(java_core, bundle, tmp_path):
    from fitedge.bench.device.results import device_runs, read_device_results

    _, classpath = java_core
    timings = [12.5, 11.0, 13.25, 12.0]
    out = tmp_path / "fitedge_bench"
    run_cli(classpath, "bench-json", str(bundle), "tiny_fp32.onnx", "--timings", ",".join(map(str, timings)),
            "--load-ms", "30", "--first-ms", "20", "--out", str(out))
    device, (record,) = device_runs(read_device_results(out / "results.json"), "SERIAL", [])
    assert device["id"] == "android:SERIAL" and device["cores"] >= 1
    assert record["status"] == "ok" and record["model"] == "tiny"
    assert record["timings_ms"] == timings
    assert record["latency"]["p50"] == pytest.approx(np.percentile(timings, 50))
    assert record["rtf"] == pytest.approx(np.mean(timings) / 1000.0)


def test_java_and_python_validate_the_exported_manifest_against_one_schema(java_core, bundle, tmp_path):
    """The repo's manifest.schema.json, read in place by both: the export passes, a broken copy fails in both."""
    from fitedge.edge.bundle.manifest import Manifest
    from fitedge.errors import BundleError

    _, classpath = java_core
    test_classpath = (Path(classpath.split(":")[0]).parent / "test-classpath").read_text().strip()
    broken = tmp_path / "broken"
    shutil.copytree(bundle, broken)
    doc = json.loads((broken / "manifest.json").read_text())
    del doc["artifacts"][0]["sha256"]
    (broken / "manifest.json").write_text(json.dumps(doc))

    java = subprocess.run(["java", "-cp", test_classpath, "org.fitedge.core.ContractSchema",
                           "manifest", str(bundle / "manifest.json"), str(broken / "manifest.json")],
                          capture_output=True, text=True, timeout=60)
    assert java.returncode == 1, java.stdout + java.stderr
    assert f"OK {bundle / 'manifest.json'}" in java.stdout
    assert re.search(r"INVALID .*broken/manifest.json: \$\.artifacts\[0\].*'sha256'", java.stdout), java.stdout
    Manifest.read(bundle)
    with pytest.raises(BundleError, match=r"\$\.artifacts\[0\]: 'sha256' is a required property"):
        Manifest.read(broken)


def test_java_quantizes_integer_io_input_as_the_python_runner_does(java_core, tmp_path):
    """``--integer-io``: the app's quantize-input logic (the core's InputQuantization) feeds the same bytes."""
    from fitedge.edge.export.options import ExportOptions
    from fitedge.edge.export.pipeline import export_bundle
    from fitedge.edge.backends.litert import quantize_input

    _, classpath = java_core
    options = ExportOptions(targets=("tflite",), precisions=("int8",), seconds=0.5, calib_windows=2, timing_runs=0,
                            litert_int8="static", int8="plain", integer_io=True)
    doc = export_bundle("tiny", tmp_path / "bundle", options)
    entry = doc["artifacts"][0]
    java = json.loads(run_cli(classpath, "quantize-input", str(tmp_path / "bundle"), entry["file"]).stdout)
    golden = np.load(tmp_path / "bundle" / doc["golden"]["input"]["npy"])
    python = quantize_input(golden, entry["input_quantization"])
    assert python.dtype == np.int8 and len(set(python.ravel().tolist())) > 10
    assert java == python.ravel().tolist()
    refused = run_cli(classpath, "quantize-input", str(tmp_path / "bundle"), "missing.tflite", check=False)
    assert refused.returncode == 1 and "not an artifact" in refused.stderr


def test_java_and_python_validate_the_phone_results_against_one_schema(java_core, bundle, tmp_path):
    """bench/device/device_results.schema.json, read in place by both: what the core writes passes, a broken
    copy fails in both (Python with one line naming the JSON path)."""
    from fitedge.bench.device.results import read_device_results
    from fitedge.errors import DataError

    _, classpath = java_core
    test_classpath = (Path(classpath.split(":")[0]).parent / "test-classpath").read_text().strip()
    out = tmp_path / "fitedge_bench"
    run_cli(classpath, "bench-json", str(bundle), "tiny_fp32.onnx", "--timings", "12.5,11.0,13.25",
            "--load-ms", "30", "--first-ms", "20", "--out", str(out))
    written = out / "results.json"
    doc = json.loads(written.read_text())
    del doc["runs"][0]["peak_memory_kb"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(doc))

    java = subprocess.run(["java", "-cp", test_classpath, "org.fitedge.core.ContractSchema", "device-results",
                           str(written), str(broken)], capture_output=True, text=True, timeout=60)
    assert java.returncode == 1, java.stdout + java.stderr
    assert f"OK {written}" in java.stdout
    assert re.search(r"INVALID .*broken.json: \$\.runs\[0\].*peak_memory_kb", java.stdout), java.stdout
    assert read_device_results(written)["runs"][0]["timings_ms"] == [12.5, 11.0, 13.25]
    with pytest.raises(DataError, match=r"^\S+broken.json: not a valid fitedge.device_bench v1 results file: "
                                        r"\$\.runs\[0\]: 'peak_memory_kb' is a required property$"):
        read_device_results(broken)
