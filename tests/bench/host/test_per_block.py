"""``fitedge bench run --per-block`` on a real tiny bundle: every block of each of the six artifacts lowered alone in
its runtime and recipe, timed in turns with the whole artifact; the table, per_block.json and ``--json``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from fitedge.quantize.auto.sensitivity import blocks
from tests.helpers.cli import assert_one_line_error, run_cli

pytestmark = pytest.mark.slow
ARGS = ("--seconds", "1", "--threads", "1", "--iters", "3")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """A tiny bundle with every runtime in fp32 and int8 (1 s of audio)."""
    from fitedge.edge.export.options import ExportOptions
    from fitedge.edge.export.pipeline import export_bundle

    out = tmp_path_factory.mktemp("perblock") / "tiny_bundle"
    export_bundle("tiny", out, ExportOptions(seconds=1.0, threads=1, timing_runs=0))
    return out


def tiny_blocks() -> list[str]:
    from fitedge.distill.models.config import preset
    from fitedge.distill.models.deployable import DeployableEncoder, OutputSpec
    from fitedge.distill.models.encoder import build_encoder

    return blocks(DeployableEncoder(build_encoder(preset("tiny")).for_inference(), OutputSpec()))


# Every runtime and both precisions, in three artifacts: each block and size probe is lowered per artifact, and
# all six took minutes of the suite.
ARTIFACTS = ("tiny_int8.pte", "tiny_fp32.tflite", "tiny_int8.onnx")


def test_every_block_of_an_artifact_of_each_runtime_is_timed_beside_the_whole(bundle: Path, tmp_path: Path) -> None:
    result = run_cli("bench", "run", *(str(bundle / a) for a in ARTIFACTS), "--per-block", *ARGS,
                     "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "per_block.json").read_text())["per_block"]
    assert sorted(a["artifact"] for a in doc) == sorted(ARTIFACTS)
    names = tiny_blocks()
    for a in doc:
        assert a["note"] is None and [b["block"] for b in a["blocks"]] == names, a
        assert all(b["ms"] > 0 and b["boundary_ms"] > 0 for b in a["blocks"]) and a["whole_ms"] > 0
        assert a["whole_boundary_ms"] > 0
        # The work leaves out the glue between blocks, and on a model this tiny the calls are most of the time,
        # so only a positive finite ratio here (the fithubert sums are in the README).
        assert math.isfinite(a["ratio"]) and a["ratio"] > 0, a
        assert a["sum_ms"] == pytest.approx(sum(b["ms"] for b in a["blocks"]), abs=1e-3)
        work = sum(max(b["ms"] - b["boundary_ms"], 0) for b in a["blocks"]) + a["whole_boundary_ms"]
        assert a["work_ms"] == pytest.approx(work, abs=1e-3) and a["work_ms"] <= a["sum_ms"]
    int8 = next(a for a in doc if a["artifact"] == "tiny_int8.onnx")
    assert set(int8["errors"]) <= set(names) | {"encoder.layers"} and int8["errors"]  # the bundle's screening
    table = result.output
    for a in doc:
        assert f"{a['artifact']} ({a['runtime']}, {a['precision']}, 16000 samples, 1 threads" in table
    assert table.count("sum of blocks") == 3 and table.count("the whole's boundary") == 3 and "int8 error" in table
    assert f"{names[0]} " in table and "ratio" in table


def test_json_prints_the_same_for_machines(bundle: Path, tmp_path: Path) -> None:
    result = run_cli("bench", "run", str(bundle / "tiny_int8.onnx"), "--per-block", "--json", *ARGS, "--out",
                     str(tmp_path))
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed == json.loads((tmp_path / "per_block.json").read_text())
    (only,) = printed["per_block"]
    assert only["runtime"] == "onnxruntime" and len(only["blocks"]) == len(tiny_blocks())
    assert only["ratio"] == pytest.approx(only["work_ms"] / only["whole_ms"], rel=1e-3)


def test_per_block_needs_targets_and_is_not_the_profile(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("bench", "run", "--per-block", "--out", str(tmp_path)), "--per-block needs TARGETs")
    result = run_cli("bench", "run", "tiny", "--per-block", "--profile", "--out", str(tmp_path))
    assert result.exit_code == 2 and "give one" in result.output


def test_the_blocks_work_takes_out_each_blocks_boundary_and_puts_back_the_wholes() -> None:
    from fitedge.edge.export.per_block import BlockTime, PerBlockTimes

    times = PerBlockTimes((BlockTime("a", "int8", 10.0, 4.0), BlockTime("b", "int8", 3.0, 1.0),
                           BlockTime("c", "fp32", 1.0, 2.0)), whole_ms=10.0, whole_boundary_ms=0.5)
    assert times.sum_ms == 14.0
    assert times.work_ms == 6.0 + 2.0 + 0.0 + 0.5  # a block faster than its boundary adds no work
    assert times.ratio == pytest.approx(0.85)


def test_a_size_probe_moves_its_values_through_one_multiply() -> None:
    import numpy as np
    import torch

    from fitedge.distill.models.config import preset
    from fitedge.distill.models.deployable import DeployableEncoder, OutputSpec
    from fitedge.distill.models.encoder import build_encoder
    from fitedge.quantize.auto.block_models import block_models, block_output, size_probe

    deployable = DeployableEncoder(build_encoder(preset("tiny")).for_inference(), OutputSpec())
    audio = 0.1 * torch.randn(1, 16000)
    (first,) = block_models(deployable, ["feature_extractor.conv_layers.0"], [audio[0].numpy()])
    output = block_output(first)
    with torch.no_grad():
        assert np.array_equal(output, first.module(torch.from_numpy(first.inputs[0])[None]).reshape(-1).numpy())
    assert output.size != first.samples  # the first conv gives more values than it takes: two probe sizes
    probe = size_probe(output)
    with torch.no_grad():
        moved = probe.module(torch.from_numpy(probe.inputs[0])[None])
    assert probe.samples == output.size and moved.numel() == output.size
    assert torch.allclose(moved.reshape(-1), 0.5 * torch.from_numpy(output))  # one multiply, nothing else
    assert sum(p.numel() for p in probe.module.parameters()) == 1


def test_onnx_runtime_threads_sleep_between_calls_when_timed_in_turns(bundle: Path) -> None:
    """Per-block times open every ONNX Runtime session with spinning off; a plain load keeps ORT's default."""
    from fitedge.edge.backends import BACKENDS

    backend = BACKENDS.for_runtime("onnxruntime")
    path = bundle / "tiny_fp32.onnx"
    quiet, default = backend.open_quiet(path, 1, {}), backend.open(path, 1, {})
    key = "session.intra_op.allow_spinning"
    assert quiet.session.get_session_options().get_session_config_entry(key) == "0"
    with pytest.raises(RuntimeError, match="does not have configuration"):  # unset: ORT spins by default
        default.session.get_session_options().get_session_config_entry(key)
