"""``fitedge bench run --stream`` on a real tiny streaming bundle (.onnx, fp32): one row per artifact x chunk
setting with finite numbers, a results.json that validates against the schema (and a row the schema refuses),
a missing runtime as one ``skipped`` line, the reuse check of the per-setting export, bad options, and the
streamed-vs-full PER of a CTC head's logits."""

from __future__ import annotations

import copy
import json
import math
import shutil

import numpy as np
import pytest

from fitedge.bench.host.onthefly import BundleExporter, bundle_matches
from fitedge.bench.host.streambench import (
    StreamBenchSettings,
    folders_sharing_a_model,
    run_stream_bench,
    stream_bundles,
)
from fitedge.bench.host.streaming import ctc_per, stream_parity
from fitedge.bench.report.results import read_results, validate_results
from fitedge.distill.data.audio import read_audio
from fitedge.edge.export.options import ExportOptions
from fitedge.edge.stream.source import StreamSettings
from fitedge.errors import DataError
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.hidden import fitedge_without
from tests.helpers.speech import write_texts
from tests.helpers.streaming import STREAM_SETTING, export_stream_bundle

SETTING = STREAM_SETTING
STREAM_ARGS = ("--chunk-ms", "320,640", "--left-ms", "640", "--right-ms", "160", "--threads", "1")
MEASURED = ("rtf", "chunk_p50_ms", "chunk_p99_ms", "first_frame_latency_ms", "peak_rss_mb", "cosine_mean",
            "cosine_worst")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return export_stream_bundle(tmp_path_factory.mktemp("benchstream") / "bundle")


@pytest.fixture(scope="module")
def wav_file(tmp_path_factory):
    return write_texts(tmp_path_factory.mktemp("speech"), ("open the window please and close the door",))[0]


@pytest.fixture(scope="module")
def streamed(bundle, wav_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    result = run_cli("bench", "run", "--stream", str(bundle), "--wav", str(wav_file), *STREAM_ARGS, "--out", str(out),
                     "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output[result.output.index("{"):]), out


def test_one_row_per_artifact_and_setting_with_finite_numbers(streamed):
    doc, _ = streamed
    rows = {(r["artifact"], r["chunk_ms"]): r for r in doc["streams"]}
    assert sorted(rows) == [("eager", 320), ("eager", 640), ("tiny_fp32.onnx", 320), ("tiny_fp32.onnx", 640)]
    assert doc["runs"] == []
    # The static .onnx takes the 320 ms window only; the 640 ms one is a skipped row saying why.
    assert rows["tiny_fp32.onnx", 640]["status"] == "skipped" and "static input" in rows["tiny_fp32.onnx", 640]["error"]
    for key in (("eager", 320), ("eager", 640), ("tiny_fp32.onnx", 320)):
        row = rows[key]
        assert row["status"] == "ok", row
        assert all(math.isfinite(row[name]) for name in MEASURED), row
        assert -1.0 <= row["cosine_worst"] <= row["cosine_mean"] <= 1.0 + 1e-6
        assert row["chunk_p99_ms"] >= row["chunk_p50_ms"] > 0 and row["rtf"] > 0 and row["frames"] > 0
        assert row["first_frame_latency_ms"] > row["algorithmic_latency_ms"] - row["chunk_ms"]
        assert row["per_vs_full"] is None  # no CTC head in this bundle
    onnx, eager = rows["tiny_fp32.onnx", 320], rows["eager", 320]
    # Both stream the same windows: the fp32 file keeps eager's parity, frame for frame.
    assert onnx["frames"] == eager["frames"] and onnx["cosine_mean"] == pytest.approx(eager["cosine_mean"], abs=1e-4)
    assert onnx["algorithmic_latency_ms"] == pytest.approx(((16 + 8) * 320 + 80) / 16)
    assert rows["eager", 640]["algorithmic_latency_ms"] > eager["algorithmic_latency_ms"]


def test_results_json_validates_against_the_schema_and_a_bad_row_is_refused(streamed):
    doc, out = streamed
    assert read_results(out / "results.json")["streams"] == doc["streams"]
    assert (out / "stream_parity_vs_latency.png").stat().st_size > 1000
    assert "## Streaming" in (out / "results.md").read_text()
    bad = copy.deepcopy(doc)
    bad["streams"][0]["cosine_mean"] = 1.5
    with pytest.raises(DataError, match="cosine_mean"):
        validate_results(bad)
    bad = copy.deepcopy(doc)
    ok = next(r for r in bad["streams"] if r["status"] == "ok")
    ok["rtf"] = None
    with pytest.raises(DataError, match="rtf"):
        validate_results(bad)


def test_fill_edges_rows_wait_for_a_whole_window_and_say_so(bundle, wav_file, tmp_path):
    out = tmp_path / "results"
    result = run_cli("bench", "run", "--stream", str(bundle), "--wav", str(wav_file), "--fill-edges", "--threads", "1",
                     "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = read_results(out / "results.json")["streams"]  # validated against the schema
    assert sorted(r["artifact"] for r in rows) == ["eager", "tiny_fp32.onnx"]
    for r in rows:
        assert r["status"] == "ok" and r["fill_edges"] is True
        assert r["first_frame_latency_ms"] >= 1000 * r["window_samples"] / 16000 > r["algorithmic_latency_ms"]
    assert "ok, filled windows" in (out / "results.md").read_text()


def test_a_missing_runtime_is_one_skipped_line(bundle, wav_file, tmp_path):
    result = fitedge_without(["onnxruntime"], "bench", "run", "--stream", str(bundle), "--wav", str(wav_file),
                             "--chunk-ms", "320", "--left-ms", "640", "--right-ms", "160", "--threads", "1",
                             "--out", str(tmp_path / "results"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    skipped = [line for line in result.stdout.splitlines() if line.startswith("skipped")]
    assert len(skipped) == 1 and skipped[0].startswith("skipped tiny_fp32.onnx (320 ms chunk): ")
    assert skipped[0].endswith('pip install "fitedge[onnx]"')
    assert "Traceback" not in result.stdout + result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()[2:-2]] == ["eager"]  # the eager row still ran


def test_two_bundles_of_one_model_name_are_told_apart_by_their_folder(bundle, wav_file, tmp_path):
    # Two recipe students both come out of a folder called "final": their rows must not share a name.
    first, second = shutil.copytree(bundle, tmp_path / "student_a"), shutil.copytree(bundle, tmp_path / "student_b")
    setting = StreamSettings(**STREAM_SETTING)
    config = StreamBenchSettings(settings=(setting,), threads=1)
    targets = [str(folder / "tiny_fp32.onnx") for folder in (first, second)]
    assert folders_sharing_a_model(list(stream_bundles(targets, (setting,), None))) == {first, second}
    rows = run_stream_bench(targets, read_audio(wav_file), config, export=None)
    assert [r["artifact"] for r in rows] == [f"{first}/tiny_fp32.onnx", f"{second}/tiny_fp32.onnx"]
    assert all(r["status"] == "ok" for r in rows), rows
    # One bundle alone keeps the plain file name.
    assert run_stream_bench(targets[:1], read_audio(wav_file), config, export=None)[0]["artifact"] == "tiny_fp32.onnx"


def test_a_model_is_exported_once_per_setting_and_a_matching_bundle_is_reused(bundle, tmp_path):
    exporter = BundleExporter(tmp_path, seconds=(), stream=StreamSettings(320.0, 640.0, 160.0))
    assert exporter.suffix() == "-stream-c320-l640-r160"
    same = ExportOptions(targets=("onnx",), precisions=("fp32",), **SETTING)
    assert bundle_matches(bundle, "tiny", same)
    assert not bundle_matches(bundle, "tiny", ExportOptions(chunk_ms=640, left_ms=640, right_ms=160))
    assert not bundle_matches(bundle, "tiny", ExportOptions(seconds=1.0))  # a plain bundle of another length


@pytest.mark.parametrize("args, needle", [
    (("--stream", "BUNDLE"), "--stream needs --wav"),
    (("--stream", "--wav", "WAV"), "--stream needs TARGETs"),
    (("BUNDLE", "--chunk-ms", "320"), "go with --stream"),
    (("BUNDLE", "--fill-edges"), "go with --stream"),
    (("--stream", "BUNDLE", "--wav", "WAV", "--threads", "1,2"), "one --threads value"),
    (("--stream", "BUNDLE", "--wav", "WAV", "--chunk-ms", "abc"), "comma-separated"),
])
def test_bad_stream_options_are_one_line_errors(args, needle, bundle, wav_file, tmp_path):
    args = [str(bundle) if a == "BUNDLE" else str(wav_file) if a == "WAV" else a for a in args]
    result = run_cli("bench", "run", *args, "--out", str(tmp_path))
    if needle == "comma-separated":  # click's own usage error: exit 2, one line
        assert result.exit_code == 2 and needle in result.output and "Traceback" not in result.output
    else:
        assert_one_line_error(result, needle)


def one_hot(classes: list[int], n: int = 4) -> np.ndarray:
    return np.eye(n, dtype=np.float32)[classes]


def test_streamed_vs_full_per_decodes_both_greedily():
    full = one_hot([0, 1, 1, 0, 2, 3])  # decodes to 1 2 3
    assert ctc_per(full, full) == 0.0
    assert ctc_per(one_hot([0, 1, 0, 2, 2, 0]), full) == pytest.approx(1 / 3)  # 1 2: one deletion
    assert ctc_per(one_hot([1, 0, 1, 2, 3, 3]), full) == pytest.approx(1 / 3)  # 1 1 2 3: one insertion
    assert ctc_per(full, one_hot([0] * 6)) is None  # nothing to compare against
    parity = stream_parity({"logits": one_hot([0, 1, 0, 2, 2, 0])}, {"logits": full})
    assert parity["per_vs_full"] == pytest.approx(1 / 3) and parity["cosine_worst"] == 0.0
    assert stream_parity({"x": full}, {"x": full}) == {"cosine_mean": 1.0, "cosine_worst": 1.0, "per_vs_full": None}
