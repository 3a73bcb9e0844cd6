"""``fitedge bench`` end to end on a real tiny bundle: eager and all six artifacts in their real runtimes,
a broken artifact beside them, a device results file written by the Android app's Java core, the report
files, and ``fitedge bench compare``."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fitedge.audio import SAMPLE_RATE
from fitedge.bench.host.stats import summarize
from fitedge.bench.report.results import read_results
from fitedge.cli import cli
from tests.helpers import REPO

CORE = REPO / "android_demo" / "core" / "src" / "main" / "java"
GSON = Path("/usr/share/java/gson.jar")
DEVICE_TIMINGS = [12.5, 11.0, 14.25, 13.0]

pytestmark = pytest.mark.slow


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """A tiny bundle with every runtime in fp32 and int8, exported by the real pipeline (1 s of audio)."""
    from fitedge.edge.export.options import ExportOptions
    from fitedge.edge.export.pipeline import export_bundle

    out = tmp_path_factory.mktemp("bench") / "tiny_bundle"
    export_bundle("tiny", out, ExportOptions(seconds=1.0, threads=1, timing_runs=1, int8_costs=False))
    return out


@pytest.fixture(scope="module")
def device_results(bundle, tmp_path_factory) -> Path:
    """results.json as the Android app writes it: produced by the app's own Java core (org.fitedge.core.Cli)."""
    if shutil.which("javac") is None or not GSON.is_file():
        pytest.fail("javac or the Debian gson jar is missing (run make system)")
    work = tmp_path_factory.mktemp("java")
    sources = [str(p) for p in CORE.rglob("*.java")]
    subprocess.run(["javac", "--release", "17", "-d", str(work / "classes"), "-cp", str(GSON), *sources],
                   check=True, capture_output=True, timeout=180)
    subprocess.run(["java", "-cp", f"{work / 'classes'}:{GSON}", "org.fitedge.core.Cli", "bench-json", str(bundle),
                    "tiny_int8.pte", "--timings", ",".join(map(str, DEVICE_TIMINGS)), "--load-ms", "40.5",
                    "--first-ms", "30.25", "--threads", "1", "--warmup", "1", "--seconds", "1", "--out",
                    str(work / "device")], check=True, capture_output=True, timeout=120)
    return work / "device" / "results.json"


@pytest.fixture(scope="module")
def bench_run(bundle, device_results, tmp_path_factory):
    """One bench run over the bundle plus a file of garbage bytes, with the device file merged."""
    broken = tmp_path_factory.mktemp("broken") / "broken.onnx"
    broken.write_bytes(b"this is not an ONNX model" * 100)
    out = tmp_path_factory.mktemp("results")
    result = invoke("bench", str(bundle), str(broken), "--reference", "tiny", "--seconds", "1", "--threads", "1",
                    "--warmup", "1", "--iters", "3", "--timeout", "120", "--processes", "2",
                    "--device-results", str(device_results), "--out", str(out))
    return result, out


def test_every_artifact_gets_numbers_and_the_broken_one_is_reported(bench_run):
    result, out = bench_run
    assert result.exit_code == 0, result.output
    doc = read_results(out / "results.json")  # validates against the schema
    host = {r["artifact"]: r for r in doc["runs"] if r["device"] == "host"}
    expected = {"eager", "broken.onnx"} | {f"tiny_{p}.{x}" for p in ("fp32", "int8") for x in ("pte", "tflite", "onnx")}
    assert set(host) == expected
    for name, run in host.items():
        if name == "broken.onnx":
            assert run["status"] == "failed" and "cannot load" in run["error"]
            assert run["process_p50_ms"] == []  # a failure is not tried again
            continue
        assert run["status"] == "ok", (name, run["error"])
        # Two processes timed; the median one (of two, the faster) is the record.
        assert len(run["process_p50_ms"]) == 2, name
        assert run["latency"]["p50"] == pytest.approx(min(run["process_p50_ms"]), abs=1e-3), name
        assert len(run["timings_ms"]) == 3 and run["latency"]["p50"] > 0
        assert run["load_ms"] > 0 and run["first_inference_ms"] > 0 and run["peak_rss_mb"] > 0
        assert run["bytes"] > 0 and run["rtf"] == pytest.approx(run["latency"]["p50"] / 1000.0)
    assert host["tiny_int8.pte"]["bytes"] < host["tiny_fp32.pte"]["bytes"]
    assert host["tiny_fp32.pte"]["delegation"]["delegated_nodes"] > 0
    assert doc["environment"]["versions"]["onnxruntime"] and doc["peaks"][0]["fp32_gflops"] > 0
    assert "failed" in result.output and "tiny_int8.tflite" in result.output


def test_efficiency_and_comparisons_against_the_reference(bench_run):
    _, out = bench_run
    doc = read_results(out / "results.json")
    host = [r for r in doc["runs"] if r["device"] == "host" and r["status"] == "ok"]
    if not doc["notes"]:  # the MAC counter is there: every host run has MACs and an achieved rate
        assert all(r["macs"] > 0 and r["gflops"] > 0 and r["peak_fraction"] > 0 for r in host)
    rows = {c["artifact"]: c for c in doc["comparisons"] if c["device"] == "host"}
    assert set(rows) == {r["artifact"] for r in host} - {"eager"}
    eager = next(r for r in host if r["artifact"] == "eager")
    int8 = next(r for r in host if r["artifact"] == "tiny_int8.onnx")
    assert rows["tiny_int8.onnx"]["time_pct"] == pytest.approx(100 * int8["latency"]["p50"] / eager["latency"]["p50"])
    assert rows["tiny_int8.onnx"]["size_pct"] == pytest.approx(100 * int8["bytes"] / eager["bytes"])
    assert doc["headline"]["artifact"] != "eager"
    assert doc["headline"]["time_pct"] == min(c["time_pct"] for c in rows.values())


def test_the_device_column_comes_from_the_java_core_file(bench_run):
    _, out = bench_run
    doc = read_results(out / "results.json")
    [device] = doc["devices"]
    [run] = [r for r in doc["runs"] if r["device"] != "host"]
    assert run["device"] == device["id"] and device["id"].startswith("android:")
    assert run["status"] == "ok" and run["artifact"] == "tiny_int8.pte" and run["timings_ms"] == DEVICE_TIMINGS
    assert run["load_ms"] == 40.5 and run["first_inference_ms"] == 30.25
    # The Java core's statistics and ours mean the same thing (contract 3 fixes the definitions).
    ours = summarize(DEVICE_TIMINGS)
    for key in ("mean", "std", "p50", "p90", "p99", "min", "max"):
        assert run["latency"][key] == pytest.approx(getattr(ours, key)), key
    host_pte = next(r for r in doc["runs"] if r["device"] == "host" and r["artifact"] == "tiny_int8.pte")
    assert run["bytes"] == host_pte["bytes"] and run["recipe"] == host_pte["recipe"]


def test_report_files(bench_run):
    _, out = bench_run
    markdown = (out / "results.md").read_text()
    assert "| tiny | tiny_int8.pte |" in markdown and "broken.onnx" in markdown
    assert "23.8" in markdown and "35.9" in markdown  # the paper's figures beside ours
    plots = sorted(p.name for p in out.glob("*.png"))
    assert plots == ["latency_by_artifact.png", "size_by_artifact.png"]  # one length: no length plot
    assert all(0 < (out / p).stat().st_size < 200_000 for p in plots)


def test_compare_two_result_files(bench_run, tmp_path):
    _, out = bench_run
    doc = json.loads((out / "results.json").read_text())
    for run in doc["runs"]:
        if run["status"] == "ok" and run["artifact"] == "tiny_fp32.onnx":
            run["latency"] = {**run["latency"], "p50": 2 * run["latency"]["p50"]}
    slower = tmp_path / "slower.json"
    slower.write_text(json.dumps(doc))
    result = invoke("bench", "compare", str(out / "results.json"), str(slower), "--json")
    assert result.exit_code == 0, result.output
    rows = {(r["artifact"], r["device"]): r for r in json.loads(result.output)["rows"]}
    assert rows[("tiny_fp32.onnx", "host")]["p50_ratio"] == pytest.approx(2.0)
    assert rows[("tiny_int8.pte", "host")]["p50_ratio"] == pytest.approx(1.0)
    table = invoke("bench", "compare", str(out / "results.json"), str(slower))
    assert table.exit_code == 0 and "tiny_fp32.onnx" in table.output


def test_profile_times_every_onnx_op_and_says_why_the_other_runtimes_cannot(bundle, tmp_path):
    result = invoke("bench", "run", str(bundle), "--profile", "--seconds", "1", "--threads", "1", "--warmup", "1",
                    "--iters", "3", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    profiles = {p["artifact"]: p for p in json.loads((tmp_path / "profile.json").read_text())["profiles"]}
    assert sorted(profiles) == sorted(f"tiny_{p}.{t}" for t in ("pte", "tflite", "onnx") for p in ("fp32", "int8"))
    for name, conv in (("tiny_fp32.onnx", "Conv"), ("tiny_int8.onnx", "QLinearConv")):
        p = profiles[name]
        ops = {o["op"]: o for o in p["ops"]}
        assert p["note"] is None and p["runs"] == 3 and ops[conv]["calls"] > 0, name
        # node times lie inside the timed runs, so they add up to at most the runs' own time
        assert 0 < sum(o["total_ms"] for o in p["ops"]) / 3 <= p["run_ms"], name
        assert f"{conv} " in result.output
    for name in ("tiny_fp32.pte", "tiny_int8.pte"):
        assert "EXECUTORCH_ENABLE_EVENT_TRACER" in profiles[name]["note"] and profiles[name]["etdump"] is None
    for name in ("tiny_fp32.tflite", "tiny_int8.tflite"):
        assert "exposes no profiler" in profiles[name]["note"] and not profiles[name]["ops"]


def test_profile_needs_an_exported_artifact(tmp_path):
    result = invoke("bench", "run", "tiny", "--profile", "--out", str(tmp_path))
    assert result.exit_code != 0 and "bundle folders or .pte/.tflite/.onnx files" in result.output


def test_compare_refuses_a_file_that_is_not_results(tmp_path):
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"schema": "something"}')
    result = invoke("bench", "compare", str(bogus), str(bogus))
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "bogus.json: not a fitedge.bench results file" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_eager_only_scaling_run_prints_json(tmp_path):
    result = invoke("bench", "tiny", "--no-export", "--seconds", "0.5,1.5", "--threads", "1", "--warmup", "0",
                    "--iters", "2", "--processes", "1", "--json", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output[result.output.index("{"):])
    assert [(r["artifact"], r["audio_seconds"], r["status"]) for r in doc["runs"]] == [
        ("eager", 0.5, "ok"), ("eager", 1.5, "ok")]
    [row] = doc["scaling"]["length"]
    assert row["seconds"] == [0.5, 1.5] and row["exponent"] == pytest.approx(
        np.log(row["p50_ms"][1] / row["p50_ms"][0]) / np.log(3.0))
    assert doc["scaling"]["attention_crossover_s"]["tiny"] == pytest.approx((2 * 64 + 128) * 320 / SAMPLE_RATE)
    assert (tmp_path / "latency_vs_length.png").stat().st_size > 0
    assert read_results(tmp_path / "results.json") == doc


def test_two_bundles_of_one_model_are_told_apart(bundle, tmp_path):
    """Plain and auto int8 of one model, say: each artifact is labelled with its bundle, eager is timed once."""
    from fitedge.bench.host.targets import resolve_targets

    other = tmp_path / "other_bundle"
    shutil.copytree(bundle, other)
    alone = resolve_targets([str(bundle)], export=None)
    assert [a.label for a in alone] == [a.name for a in alone]  # one bundle: plain file names
    both = resolve_targets([str(bundle), str(other)], export=None)
    labels = [a.label for a in both]
    assert labels.count("eager") == 1 and len(labels) == len(set(labels)) == 2 * len(alone) - 1
    assert f"{bundle}/tiny_int8.onnx" in labels and f"{other}/tiny_int8.onnx" in labels

    result = invoke("bench", "run", str(bundle / "tiny_int8.onnx"), str(other / "tiny_int8.onnx"), "--seconds", "1",
                    "--threads", "1", "--warmup", "0", "--iters", "2", "--processes", "1",
                    "--out", str(tmp_path / "out"), "--json")
    assert result.exit_code == 0, result.output
    runs = json.loads(result.output)["runs"]
    assert sorted(r["artifact"] for r in runs) == sorted([f"{bundle}/tiny_int8.onnx", f"{other}/tiny_int8.onnx"])
    assert all(r["status"] == "ok" for r in runs)


def test_cells_are_timed_in_rounds_and_a_length_a_static_artifact_cannot_take_is_skipped_once(bundle, tmp_path):
    result = invoke("bench", "run", str(bundle / "tiny_int8.tflite"), str(bundle / "tiny_int8.onnx"), "--seconds",
                    "1,2", "--threads", "1", "--warmup", "0", "--iters", "2", "--processes", "2",
                    "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    steps = [line.removeprefix("bench: ") for line in result.output.splitlines()
             if line.startswith(("bench: timed ", "bench: skipped "))]
    # Round one times every cell that can run, then round two: never one cell's processes back to back.
    assert [s.split(":")[0].split()[-1] for s in steps] == ["tiny_int8.tflite", "tiny_int8.tflite", "tiny_int8.onnx",
                                                            "tiny_int8.onnx", "tiny_int8.tflite", "tiny_int8.onnx"]
    assert steps[0].endswith("ok (1/2)") and steps[1].startswith("skipped") and steps[-1].endswith("ok (2/2)")
    runs = {(r["artifact"], r["audio_seconds"]): r for r in read_results(tmp_path / "results.json")["runs"]}
    for name in ("tiny_int8.tflite", "tiny_int8.onnx"):  # both static at 1 s (the bundle has no --dynamic)
        assert runs[(name, 1.0)]["status"] == "ok" and len(runs[(name, 1.0)]["process_p50_ms"]) == 2
        assert runs[(name, 2.0)]["status"] == "skipped" and runs[(name, 2.0)]["process_p50_ms"] == []
        assert "asked for 32000" in runs[(name, 2.0)]["error"]
