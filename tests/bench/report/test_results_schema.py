"""results.json against bench/report/results.schema.json: the writers' records, the typed view, one-line errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from fitedge.bench.device.results import device_runs
from fitedge.bench.host import compare, scaling
from fitedge.bench.host.environment import describe_host
from fitedge.bench.host.matrix import Cell, MatrixSettings, base_record, timed_record
from fitedge.bench.host.targets import EAGER, Artifact
from fitedge.bench.report.results import (
    BenchResults,
    Comparison,
    DeviceInfo,
    Environment,
    Latency,
    Peak,
    Run,
    Scaling,
    Settings,
    read_results,
    schema_path,
    validate_results,
    write_results,
)
from fitedge.errors import DataError
from tests.helpers import REPO
from tests.helpers.cli import assert_one_line_error, run_cli

SETTINGS = MatrixSettings(seconds=(1.0, 2.0), threads=(1,), warmup=1, iters=3, processes=2)
DOCS = sorted((REPO / "docs" / "bench").rglob("results.json"))


def _child(timings: list[float]) -> dict:
    """What one cell's process reports (bench/host/worker.py)."""
    return {"timings_ms": timings, "load_ms": 5.0, "first_inference_ms": 7.0, "peak_rss_kb": 204800,
            "baseline_rss_kb": 102400}


def _host_runs() -> list[dict]:
    """Records as the matrix makes them: two timed lengths of eager, a failed and a skipped ONNX cell."""
    eager = Artifact(model="tiny", name=EAGER, runtime=EAGER, precision="fp32", parameters=10, bytes=40)
    onnx = Artifact(model="tiny", name="tiny_fp32.onnx", runtime="onnxruntime", precision="fp32", bytes=50,
                    input_samples=16000, parity={"cosine": 1.0}, delegation=None)
    ok = [timed_record(base_record(Cell(eager, s, 1), SETTINGS), [_child([s * 3, s * 2, s * 4]), _child([s, s, s])])
          for s in SETTINGS.seconds]
    failed = timed_record(base_record(Cell(onnx, 1.0, 1), SETTINGS), [{"error": "crashed with SIGSEGV"}])
    skipped = {**base_record(Cell(onnx, 2.0, 1), SETTINGS), "error": "static: takes 16000 samples; asked for 32000"}
    return [*ok, failed, skipped]


def _device_doc() -> dict:
    """A contract-3 file as the Android core writes it (android_demo/core SCHEMA.md)."""
    stats = {"mean_ms": 11.0, "std_ms": 1.0, "p50_ms": 11.0, "p90_ms": 11.8, "p99_ms": 11.98, "min_ms": 10.0,
             "max_ms": 12.0}
    return {"schema": "fitedge.device_bench", "schema_version": 1, "app_version": "0.1.0", "error": None,
            "device": {"manufacturer": "Google", "model": "Pixel 7", "soc": None, "android_version": "14",
                       "sdk_int": 34, "abi": "arm64-v8a", "thermal_status": None, "cores": 8},
            "bundle": {"path": "/data/local/tmp/b", "model_name": "tiny", "manifest_sha256": "ab" * 32},
            "runs": [{"artifact": "tiny_fp32.onnx", "runtime": "onnxruntime", "precision": "fp32",
                      "audio_seconds": 1.0, "input_samples": 16000, "threads": 1, "warmup": 1, "iterations": 3,
                      "load_ms": 1.0, "first_inference_ms": 2.0, "timings_ms": [10.0, 11.0, 12.0], "stats": stats,
                      "rtf": 0.011, "peak_memory_kb": 51200, "error": None}]}


@pytest.fixture(scope="module")
def doc() -> dict:
    """A document as run_benchmark assembles it, from the real record builders (no timing)."""
    device, phone = device_runs(_device_doc(), "SERIAL", [])
    runs = _host_runs() + phone
    comparisons = compare.reference_comparisons(runs, "tiny")
    environment = describe_host([0.5, 0.4, 0.3])
    results = BenchResults(
        environment=Environment.from_dict(environment), peaks=[Peak(1, 50.0, None, 1024)],
        settings=Settings([1.0, 2.0], [1], 1, 3, 60.0, "tiny", extra={"processes": 2}),
        devices=[DeviceInfo.from_dict(device)], runs=[Run.from_dict(r) for r in runs],
        comparisons=[Comparison.from_dict(c) for c in comparisons], headline=None,
        scaling=scaling_section(runs), notes=["no int8 peak here"],
        extra={"advice": compare.class_advice(runs, environment["cpu"]["class"])})
    return results.to_dict()


def scaling_section(runs: list[dict]) -> Scaling:
    return Scaling(scaling.length_scaling(runs), scaling.thread_scaling(runs), {"tiny": 57.6})


def _resolve(schema: dict, node: dict) -> list[dict]:
    """``node`` and every subschema it stands for ($ref, oneOf, allOf branches), as plain dicts."""
    if "$ref" in node:
        name = node["$ref"].removeprefix("#/$defs/")
        return _resolve(schema, schema["$defs"][name]) + [node]
    found = [node]
    for key in ("oneOf", "anyOf", "allOf"):
        for branch in node.get(key, []):
            found += _resolve(schema, branch)
    return found


def undeclared_keys(schema: dict, node: dict, value, where: str = "$") -> list[str]:
    """Every object key of ``value`` that the schema does not declare where it occurs."""
    nodes = _resolve(schema, node)
    if isinstance(value, dict):
        declared: dict[str, dict] = {}
        open_values = [n["additionalProperties"] for n in nodes if isinstance(n.get("additionalProperties"), dict)]
        for n in nodes:
            declared.update(n.get("properties", {}))
        open_ended = open_values or not any("properties" in n for n in nodes)  # e.g. delegation, parity
        missing = [] if open_ended else [f"{where}.{k}" for k in value if k not in declared]
        return missing + [m for k, v in value.items() if k in declared
                          for m in undeclared_keys(schema, declared[k], v, f"{where}.{k}")]
    if isinstance(value, list):
        items = [n["items"] for n in nodes if "items" in n]
        return [m for i, v in enumerate(value) for item in items
                for m in undeclared_keys(schema, item, v, f"{where}[{i}]")]
    return []


def test_a_document_from_the_writers_round_trips(doc, tmp_path):
    path = write_results(tmp_path / "results.json", doc)
    assert read_results(path) == doc
    typed = BenchResults.read(path)
    ok = [r for r in typed.runs if r.status == "ok" and r.device == "host"]
    assert [r.audio_seconds for r in ok] == [1.0, 2.0]
    assert isinstance(ok[0].latency, Latency) and ok[0].latency.p50 == pytest.approx(1.0)  # the median process
    assert ok[1].process_p50_ms == [6.0, 2.0]
    assert {r.status for r in typed.runs} == {"ok", "failed", "skipped"}
    assert typed.devices[0].id == "android:SERIAL" and typed.settings.extra["processes"] == 2


def test_every_key_the_writers_emit_is_in_the_schema(doc):
    schema = json.loads(schema_path().read_text())
    assert undeclared_keys(schema, schema, doc) == []
    assert "process_p50_ms" in doc["runs"][0] and "process_p50_ms" in schema["$defs"]["run"]["properties"]
    # the walker does catch a key the schema lacks
    assert undeclared_keys(schema, schema, {**doc, "runs": [{**doc["runs"][0], "new_key": 1}]}) == \
        ["$.runs[0].new_key"]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_committed_results_read_and_declare_every_key(path: Path):
    schema = json.loads(schema_path().read_text())
    doc = read_results(path)  # older v1 files too: without process_p50_ms, settings.processes, advice
    assert undeclared_keys(schema, schema, doc) == []


def test_typed_fields_are_the_schema_required_keys():
    schema = json.loads(schema_path().read_text())
    defs = schema["$defs"]
    pairs = [(BenchResults, schema), (Run, defs["run"]), (Latency, defs["latency"]), (Peak, defs["peak"]),
             (Settings, defs["settings"]), (Environment, defs["environment"]), (DeviceInfo, defs["device"]),
             (Comparison, defs["comparison"])]
    for cls, node in pairs:
        assert sorted(cls.keys()) == sorted(node["required"]), cls.__name__


@pytest.mark.parametrize("breakage, expected", [
    (lambda d: d.pop("environment"), "$: 'environment' is a required property"),
    (lambda d: d["runs"][0].update(status="fine"), "$.runs[0].status: 'fine' is not one of"),
    (lambda d: d["runs"][0].update(threads=True), "$.runs[0].threads: True is not of type 'integer'"),
    (lambda d: d["runs"][0].update(process_p50_ms="fast"), "$.runs[0].process_p50_ms: 'fast' is not of type"),
    (lambda d: d["runs"][0].update(timings_ms=[1.0]), "$.runs[0]: status ok needs one timing per iteration"),
    (lambda d: d["runs"][2].update(error=None), "$.runs[2].error: None is not of type 'string'"),
    (lambda d: d["runs"][0].update(latency=None), "$.runs[0].latency: None is not of type 'object'"),
    (lambda d: d["runs"][0]["latency"].pop("p90"), "$.runs[0].latency: 'p90' is a required property"),
    (lambda d: d.update(schema_version=2), "schema_version 2 is not supported (expected 1)"),
    (lambda d: d.update(schema="fitedge.bundle"), "not a fitedge.bench results file"),
])
def test_a_bad_file_is_one_line_naming_where(doc, tmp_path, breakage, expected):
    broken = copy.deepcopy(doc)
    breakage(broken)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken))
    good = write_results(tmp_path / "good.json", doc)
    line = assert_one_line_error(run_cli("bench", "compare", str(good), str(bad)), str(bad), expected)
    assert line.count("\n") == 0


def test_an_invalid_document_is_never_written(doc, tmp_path):
    broken = copy.deepcopy(doc)
    broken["runs"][0]["status"] = "fine"
    with pytest.raises(DataError, match=r"refusing to write it.*\$\.runs\[0\]\.status"):
        write_results(tmp_path / "results.json", broken)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_json_is_one_line(tmp_path):
    bad = tmp_path / "results.json"
    bad.write_text("{not json")
    with pytest.raises(DataError, match=r"results.json: cannot read results \(Expecting"):
        read_results(bad)
    assert validate_results(read_results(DOCS[0]))["schema_version"] == 1
