"""The manifest contract: ``edge/bundle/manifest.schema.json`` and the typed :class:`Manifest` over it.

A manifest exported by the real pipeline validates and survives ``from_dict``/``to_dict`` byte for byte;
targeted corruptions are refused on read with a one-line error naming the JSON path and key; an invalid manifest
is never written; the PER gate's after-the-fact rewrite goes through the typed object and the schema.
The Java side of the same contract is in tests/test_android_core.py and the core's ManifestSchemaTest.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fitedge.edge.bundle.manifest import MANIFEST_FILE, Manifest, schema_path
from fitedge.errors import BundleError
from tests.helpers import REPO


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``fitedge export tiny --targets onnx --precision fp32 --seconds 1 --timing-runs 1`` (fastest lowering)."""
    from fitedge.edge.export.options import ExportOptions
    from fitedge.edge.export.pipeline import export_bundle

    out = tmp_path_factory.mktemp("schema") / "bundle"
    export_bundle("tiny", out, ExportOptions(targets=("onnx",), precisions=("fp32",), seconds=1.0, timing_runs=1))
    return out


def copy_with(bundle: Path, dest: Path, change: Callable[[dict[str, Any]], Any]) -> Path:
    """A copy of ``bundle`` whose manifest ``change`` has edited in place."""
    shutil.copytree(bundle, dest)
    doc = json.loads((dest / MANIFEST_FILE).read_text())
    change(doc)
    (dest / MANIFEST_FILE).write_text(json.dumps(doc, indent=2))
    return dest


def test_schema_file_is_the_repository_file_and_a_valid_2020_12_schema() -> None:
    from jsonschema import Draft202012Validator

    schema = json.loads(schema_path().read_text())
    Draft202012Validator.check_schema(schema)
    assert schema_path().resolve() == (REPO / "edge" / "bundle" / "manifest.schema.json").resolve()
    assert "fitedge.bundle/v1" in schema["$id"]


def test_exported_manifest_validates_and_round_trips_byte_for_byte(bundle: Path) -> None:
    text = (bundle / MANIFEST_FILE).read_text()
    doc = json.loads(text)
    manifest = Manifest.read(bundle)
    assert Manifest.from_dict(doc).to_dict() == doc
    assert json.dumps(manifest.to_dict(), indent=2) + "\n" == text  # same keys, same order
    [entry] = manifest.artifacts
    assert (entry.runtime, entry.precision, entry.parity.against) == ("onnxruntime", "fp32", "fp32 eager")
    assert manifest.input_bounds(entry)["input_samples"] == manifest.audio.input_samples == 16000
    assert manifest.artifact(entry.file) is entry and manifest.artifact("other.pte") is None


CORRUPTIONS = {
    "artifact without sha256": (lambda d: d["artifacts"][0].pop("sha256"), "$.artifacts[0]", "'sha256'"),
    "unknown runtime": (lambda d: d["artifacts"][0].update(runtime="tvm"), "$.artifacts[0].runtime", "'tvm'"),
    "input_samples as a string": (lambda d: d["audio"].update(input_samples="16000"), "$.audio.input_samples",
                                  "'integer'"),
    "no golden section": (lambda d: d.pop("golden"), "$", "'golden'"),
    "sha256 not hex": (lambda d: d["golden"]["input"].update(sha256="xyz"), "$.golden.input.sha256", "'xyz'"),
    "dynamic without its bounds": (lambda d: d["audio"].update(dynamic=True), "$.audio.min_samples", "'integer'"),
    "unknown precision": (lambda d: d["artifacts"][0].update(precision="fp16"), "$.artifacts[0].precision",
                          "'fp16'"),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_corrupted_manifest_is_refused_naming_path_and_key(bundle: Path, tmp_path: Path, name: str) -> None:
    change, where, key = CORRUPTIONS[name]
    broken = copy_with(bundle, tmp_path / "broken", change)
    with pytest.raises(BundleError) as raised:
        Manifest.read(broken)
    message = str(raised.value)
    assert "\n" not in message and "not a valid fitedge.bundle v1 manifest" in message
    assert f"{where}:" in message and key in message, message


def test_optional_and_unknown_keys_pass_and_are_kept(bundle: Path, tmp_path: Path) -> None:
    def grow(doc: dict[str, Any]) -> None:
        doc["model"]["config"]["a_new_config_key"] = [1, 2]  # config is open-ended by design
        doc["artifacts"][0]["etrecord"] = {"file": "x.etrecord", "bytes": 3, "sha256": "0" * 64}
        doc["future_section"] = {"anything": True}  # a v1 reader ignores what it does not know

    grown = copy_with(bundle, tmp_path / "grown", grow)
    doc = json.loads((grown / MANIFEST_FILE).read_text())
    assert Manifest.read(grown).to_dict() == doc


def test_an_invalid_manifest_is_never_written(bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    before = (copy / MANIFEST_FILE).read_text()
    manifest = Manifest.read(copy)
    manifest.artifacts[0].sha256 = "not a digest"
    with pytest.raises(BundleError, match=r"refusing to write it.*\$\.artifacts\[0\]\.sha256"):
        manifest.write(copy)
    assert (copy / MANIFEST_FILE).read_text() == before


def test_gate_rewrite_goes_through_the_typed_manifest(bundle: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from fitedge.bench.eval import gate
    from fitedge.bench.eval.per import PerReport

    folder = tmp_path / "gated"
    shutil.copytree(bundle, folder)
    manifest = Manifest.read(folder)
    [entry] = manifest.artifacts
    reference = PerReport("float", "corpus", 0.30, 0.28, 0.32, 0.95, 150, 4000, 1, 2, 3, {"probe": {"kind": "linear"}})
    result = gate.GateResult("corpus", 2.0, {"whole file": reference},
                             [gate.ArtifactPer(entry.file, entry.precision, 0.305, 0.28, 0.33, 0.30, 2.0)])
    monkeypatch.setattr(gate, "gate_artifacts", lambda *args, **kwargs: result)  # no probe training here

    gate.apply_gate(folder, manifest, gate.PerGate("corpus"))
    written = Manifest.read(folder)  # schema-valid after the rewrite
    per = written.artifacts[0].extra["per"]
    assert per["passed"] is True and per["increase_points"] == pytest.approx(0.5)
    assert written.extra["per_gate"]["reference"] == {"whole file": {"per": 0.30, "ci_low": 0.28, "ci_high": 0.32}}
    before = json.loads((bundle / MANIFEST_FILE).read_text())
    after = written.to_dict()
    assert list(after)[: len(before)] == list(before) and list(after)[-1] == "per_gate"  # v1 order, section added
    assert "PER gate" in (folder / "report.md").read_text()


def test_gate_refuses_to_record_a_result_the_schema_rejects(bundle: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from fitedge.bench.eval import gate

    folder = tmp_path / "gated"
    shutil.copytree(bundle, folder)
    manifest = Manifest.read(folder)
    before = (folder / MANIFEST_FILE).read_text()
    result = gate.GateResult("corpus", 2.0, {}, [gate.ArtifactPer(manifest.artifacts[0].file, "fp32", 0.3, 0.2, 0.4,
                                                                  0.3, 2.0)])
    monkeypatch.setattr(gate, "gate_artifacts", lambda *args, **kwargs: result)
    monkeypatch.setattr(gate.ArtifactPer, "to_dict", lambda self: {"per": "high"})  # what a buggy gate would write
    monkeypatch.setattr(gate.GateResult, "to_manifest", lambda self: {"corpus": "corpus", "max_increase_points": 2.0,
                                                                      "reference": {}})
    with pytest.raises(BundleError, match=r"\$\.artifacts\[0\]\.per"):
        gate.apply_gate(folder, manifest, gate.PerGate("corpus"))
    assert (folder / MANIFEST_FILE).read_text() == before
