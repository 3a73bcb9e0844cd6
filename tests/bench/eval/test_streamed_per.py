"""Streamed PER (``fitedge eval per --chunk-ms``): the full-utterance probe decoding what a live stream emits.

A chunked-attention model streamed at its own chunk setting reproduces its full-utterance frames, so its streamed
PER must equal the full one; a full-attention model streamed with a short context does not, and its frame counts
must still match the full utterance's, utterance by utterance.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fitedge.bench.eval.features import eager_features
from fitedge.bench.eval.per import EvalSettings, evaluate_per
from fitedge.bench.eval.probe import ProbeConfig
from fitedge.bench.eval.streamed import streamed_features
from fitedge.distill.data.audio import read_audio
from fitedge.distill.data.corpus import load_split
from fitedge.edge.stream.source import StreamSettings, bundle_default_ms
from tests.helpers.cli import assert_one_line_error, run_cli

PROBE = ProbeConfig(epochs=3, batch_size=4)
SETTINGS = EvalSettings(max_train=8, resamples=200)


def test_a_chunked_model_streamed_at_its_own_setting_keeps_its_full_utterance_per(corpus: Path) -> None:
    own = StreamSettings(*bundle_default_ms("tiny-stream"))
    report = evaluate_per("tiny-stream", corpus, "last", PROBE, SETTINGS, threads=1, stream=[own])
    (row,) = report.streamed
    assert row["chunk_ms"] == pytest.approx(own.chunk_ms) and row["algorithmic_latency_ms"] > row["chunk_ms"]
    assert row["per"] == pytest.approx(report.per, abs=0.005), row
    low, high = row["increase_ci_points"]
    assert low <= row["increase_points"] <= high and high - low < 1.0


def test_a_full_attention_model_filled_with_windows_longer_than_every_utterance_keeps_its_per(corpus: Path) -> None:
    """Filled and cut to the audio, each test utterance is one window: the full utterance's own features."""
    report = evaluate_per("tiny", corpus, "last", PROBE, SETTINGS, threads=1,
                          stream=[StreamSettings(320.0, 8000.0, 0.0, fill_edges=True)])
    (row,) = report.streamed
    assert row["fill_edges"] and row["per"] == pytest.approx(report.per, abs=1e-9) and row["increase_points"] == 0


def test_streamed_features_have_the_full_utterances_frames(corpus: Path) -> None:
    from fitedge.distill.checkpoints.source import load_encoder

    streamed = streamed_features("tiny", StreamSettings(160.0, 320.0, 80.0), "last", threads=1)
    full = eager_features(load_encoder("tiny"))
    wav = read_audio(load_split(corpus, "test")[0].path)
    a, b = streamed(wav), full(wav)
    assert a.shape == b.shape and a.shape[1] > 20
    cosine = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    # Full attention over 0.5 s windows is not the whole utterance: close, but not the same frames.
    assert 0.5 < cosine.mean() < 0.99999, cosine.mean()
    assert "streamed live" in streamed.framing.describe()


def test_eval_per_chunk_ms_prints_a_table_and_json(corpus: Path, tmp_path: Path) -> None:
    args = ("eval", "per", "tiny", "--data", str(corpus), "--epochs", "2", "--max-train", "6", "--threads", "1",
            "--chunk-ms", "320,640", "--left-ms", "640", "--right-ms", "160")
    result = run_cli(*args, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "full utterance: PER" in result.output and result.output.count("paired") == 1
    doc = json.loads((tmp_path / "per_report.json").read_text())
    assert [(r["chunk_ms"], r["left_ms"], r["right_ms"]) for r in doc["streamed"]] == [(320, 640, 160),
                                                                                     (640, 640, 160)]
    for r in doc["streamed"]:
        assert r["increase_points"] == pytest.approx(100 * (r["per"] - doc["per"]), abs=1e-3)
    assert_one_line_error(run_cli("eval", "per", "mfcc", "--data", str(corpus), "--chunk-ms", "320"), "--chunk-ms")
    result = run_cli("eval", "per", "tiny", "--data", str(corpus), "--left-ms", "320")
    assert result.exit_code == 2 and "go with --chunk-ms" in result.output
    result = run_cli("eval", "per", "tiny", "--data", str(corpus), "--fill-edges")
    assert result.exit_code == 2 and "goes with --chunk-ms" in result.output
