"""A static .onnx exported with --chunk-ms: its manifest's streaming section, its stream against eager's stream,
and ``fitedge stream``'s measured report on it (each setting served only where the artifact can serve it)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import fitedge
from fitedge.edge.bundle.manifest import Manifest
from fitedge.edge.stream.geometry import StreamGeometry, streaming_section
from fitedge.edge.stream.stream import stream_all
from fitedge.errors import ConfigError
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.speech import write_texts
from tests.helpers.streaming import STREAM_SETTING, export_stream_bundle

SETTING = STREAM_SETTING


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return export_stream_bundle(tmp_path_factory.mktemp("stream") / "bundle")


@pytest.fixture(scope="module")
def wav_file(tmp_path_factory):
    return write_texts(tmp_path_factory.mktemp("speech"), ("open the window please",))[0]


def test_the_static_input_is_the_window_and_the_manifest_says_so(bundle):
    manifest = Manifest.read(bundle)
    geometry = StreamGeometry.of_model(manifest.model.config, **SETTING)
    # tiny attends to everything: its windows keep their zeros before the audio (an app reads shift_start).
    assert manifest.streaming == {**geometry.to_manifest(), "shift_start": False}
    assert manifest.streaming == streaming_section(geometry, manifest.model.config)
    assert manifest.audio.input_samples == geometry.window_samples and manifest.artifacts[0].static


def test_the_static_onnx_streams_as_eager_does(bundle, wav_file):
    from fitedge.distill.data.audio import read_audio

    wav = read_audio(wav_file)
    onnx = stream_all(fitedge.stream(bundle / "tiny_fp32.onnx"), wav, feed=777)["last_hidden_state"]
    eager = stream_all(fitedge.stream("tiny", **SETTING), wav, feed=4000)["last_hidden_state"]
    assert onnx.shape == eager.shape and len(onnx) == StreamGeometry.of_model(
        Manifest.read(bundle).model.config, **SETTING).frames(len(wav))
    np.testing.assert_allclose(onnx, eager, atol=1e-3, rtol=0)


def test_another_window_is_refused_in_one_line(bundle):
    with pytest.raises(ConfigError, match="takes 18000 samples") as error:
        fitedge.stream(bundle / "tiny_fp32.onnx", chunk_ms=640)
    assert "\n" not in str(error.value)


def test_fitedge_stream_reports_every_setting_each_target_can_serve(bundle, wav_file, tmp_path):
    plot = tmp_path / "sweep.png"
    result = run_cli("stream", str(bundle), "--wav", str(wav_file), "--chunk-ms", "320,640", "--left-ms", "640",
                     "--right-ms", "160", "--plot", str(plot), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output[result.output.index("{"):])
    served = sorted((r["artifact"], r["chunk_ms"]) for r in doc["results"])
    assert served == [("eager", 320), ("eager", 640), ("tiny_fp32.onnx", 320)]
    by = {(r["artifact"], r["chunk_ms"]): r for r in doc["results"]}
    onnx, eager = by[("tiny_fp32.onnx", 320)], by[("eager", 320)]
    assert onnx["frames"] == eager["frames"] > 0 and onnx["cosine_mean"] == pytest.approx(eager["cosine_mean"], 1e-4)
    assert 0.9 < onnx["cosine_mean"] <= 1.0 + 1e-6 and onnx["cosine_worst"] <= onnx["cosine_mean"]
    assert onnx["algorithmic_latency_ms"] == pytest.approx(((16 + 8) * 320 + 80) / 16)
    assert onnx["first_frame_latency_ms"] > onnx["algorithmic_latency_ms"] - 320 / 16
    assert onnx["rtf"] > 0 and onnx["chunk_p99_ms"] >= onnx["chunk_p50_ms"] > 0 and onnx["peak_rss_mb"] > 0
    assert plot.stat().st_size > 1000


def test_fitedge_stream_fill_edges_waits_for_a_window_and_keeps_the_zeros_out(bundle, wav_file):
    rows = {}
    for flags in ((), ("--fill-edges",)):
        result = run_cli("stream", str(bundle), "--wav", str(wav_file), *flags, "--json")
        assert result.exit_code == 0, result.output
        doc = json.loads(result.output[result.output.index("{"):])
        assert doc["audio_seconds"] > 1.5 and {r["fill_edges"] for r in doc["results"]} == {bool(flags)}
        rows[bool(flags)] = {r["artifact"]: r for r in doc["results"]}
    window_ms = Manifest.read(bundle).audio.input_samples / 16
    for artifact in ("eager", "tiny_fp32.onnx"):
        padded, filled = rows[False][artifact], rows[True][artifact]
        assert filled["frames"] == padded["frames"]
        assert filled["first_frame_latency_ms"] >= window_ms > padded["first_frame_latency_ms"]
        # tiny attends to everything, so the zeros before the audio cost every early frame (0.0030 -> 0.0021 here)
        assert 1 - filled["cosine_mean"] < 0.8 * (1 - padded["cosine_mean"]), (filled, padded)


@pytest.mark.parametrize("args, needle", [
    (("stream", "tiny", "--chunk-ms", "abc"), "--chunk-ms wants"),
    (("stream", "tiny", "--chunk-ms", "5"), "shorter than one frame"),
    (("export", "tiny", "--out", "x", "--left-ms", "640"), "need --chunk-ms"),
])
def test_bad_stream_settings_are_one_line_errors(args, needle, wav_file, tmp_path):
    args = (*args, "--wav", str(wav_file)) if args[0] == "stream" else (*args[:3], str(tmp_path / "x"), *args[4:])
    assert_one_line_error(run_cli(*args), needle)
