"""``--int8 auto``: blocks whose own int8 error stands out stay float, and more while an artifact misses the floor."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import torch

from fitedge.distill.checkpoints.folder import save_checkpoint
from fitedge.distill.models.config import preset
from fitedge.distill.models.encoder import build_encoder
from fitedge.edge.bundle.manifest import sha256_file
from fitedge.edge.export.options import ExportOptions
from fitedge.edge.export.pipeline import export_bundle
from fitedge.quantize.auto import policy
from fitedge.quantize.auto.policy import MAX_WIDENINGS, RUN_TIME_MARGIN, plan_int8, prefer_run_time
from fitedge.quantize.auto.sensitivity import BlockSensitivity

FRAGILE = [BlockSensitivity("feature_extractor.conv_layers.0", 0.90, 9.0),
           BlockSensitivity("feature_extractor.conv_layers.1", 0.999, 28.0),
           BlockSensitivity("encoder.layers.0", 0.9995, 31.0),
           BlockSensitivity("encoder.layers.1", 0.996, 22.0)]


def test_the_plan_keeps_the_outliers_and_widens_in_order_of_harm() -> None:
    plan = plan_int8("auto", (), lambda: FRAGILE)
    assert plan.keep_float == ("feature_extractor.conv_layers.0",)  # 100x the least harmful block's loss
    wider = plan.widen("x.onnx at cosine 0.97")
    assert wider.keep_float == ("feature_extractor.conv_layers.0", "encoder.layers.1")
    assert "encoder.layers.1 too: x.onnx at cosine 0.97" in wider.reason
    steps = [wider]
    while (nxt := steps[-1].widen("again")) is not None:
        steps.append(nxt)
    assert steps[-1].keep_float == tuple(b.block for b in sorted(FRAGILE, key=lambda b: b.cosine))


def test_a_group_of_equally_fragile_blocks_stands_out_together() -> None:
    # A trained FitHuBERT student's screening: eight convs alike at ~0.009 loss, the rest at ~0.001. The 10x bar
    # alone took one conv of the eight (0.00993 > 0.00963); the 7x step between the groups takes all eight.
    convs = [BlockSensitivity(f"feature_extractor.conv_layers.{i}", c, 17.0)
             for i, c in enumerate([0.9900664, 0.9911556, 0.9908286, 0.9906905, 0.9908003, 0.9911116, 0.9913103,
                                    0.9911405], start=1)]
    rest = [BlockSensitivity(b, c, 27.0) for b, c in [("feature_extractor.conv_layers.0", 0.9988267),
                                                      ("feature_projection", 0.9988349),
                                                      ("encoder.pos_conv_embed", 0.9990371),
                                                      ("encoder.layers", 0.9990273)]]
    plan = plan_int8("auto", (), lambda: convs + rest)
    assert sorted(plan.keep_float) == sorted(b.block for b in convs)
    assert plan.keep_float[0] == "feature_extractor.conv_layers.1"  # worst first: widening order stays by harm
    alike = [BlockSensitivity(f"b{i}", 0.9998 - 0.00001 * i, 35.0) for i in range(12)]  # within 2x: nothing
    assert plan_int8("auto", (), lambda: alike).keep_float == ()


def test_a_run_time_recipe_replaces_float_blocks_only_when_its_loss_would_not_stand_out() -> None:
    plan = plan_int8("auto", (), lambda: FRAGILE)  # least harmful block alone: loss 0.0005, so the bar is 0.005
    assert plan.tolerates(0.996) and not plan.tolerates(0.994)
    handled = plan.handled_at_run_time(0.996, 20.0, 30.0)
    assert handled.keep_float == () and handled.sensitivity == plan.sensitivity
    assert "dynamic int8" in handled.reason and "0.996000" in handled.reason and plan.reason in handled.reason
    assert "20.0 ms, against 30.0 ms" in handled.reason
    assert not plan_int8("plain", (), lambda: FRAGILE).tolerates(1.0)  # nothing measured: nothing to compare with
    refused = handled.widen("x.tflite at PER +2.00 points")  # e.g. by --gate-per: the flagged blocks go float
    assert refused.keep_float == plan.keep_float and refused.widened == 1 and refused.run_time_quantized == ()
    assert refused.widen("again").keep_float == (*plan.keep_float, "encoder.layers.1")


def test_a_run_time_recipe_must_be_clearly_faster_than_the_float_blocks() -> None:
    assert prefer_run_time(20.0, 30.0) and not prefer_run_time(20.0, 20.0 * RUN_TIME_MARGIN)
    assert not prefer_run_time(30.0, 20.0)
    plan = plan_int8("auto", (), lambda: FRAGILE)
    kept = plan.kept_over_run_time(0.996, 25.9, 23.6)
    assert kept.keep_float == plan.keep_float and kept.run_time_quantized == ()
    assert "not dynamic int8 (cosine 0.996000)" in kept.reason and "25.9 ms against 23.6 ms" in kept.reason


def test_plain_and_keep_float_never_measure() -> None:
    def measure() -> list:
        raise AssertionError("measured")

    assert plan_int8("plain", (), measure).keep_float == ()
    manual = plan_int8("auto", ("encoder.layers.0",), measure)
    assert (manual.mode, manual.keep_float, manual.widen("x")) == ("manual", ("encoder.layers.0",), None)


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """tiny's int8 .onnx (cosine ~0.997 plain) against a floor plain int8 misses: auto has to widen."""
    out = tmp_path_factory.mktemp("auto") / "bundle"
    options = ExportOptions(targets=("onnx",), precisions=("int8",), seconds=1.0, calib_windows=4, timing_runs=0,
                            min_cosine=0.9995, allow_degraded=True)
    lines: list[str] = []
    doc = export_bundle("tiny", out, options, progress=lines.append)
    return {"doc": doc, "lines": lines, "out": out}


def test_auto_records_what_it_measured_and_widens_until_the_floor(strict: dict) -> None:
    doc = strict["doc"]
    policy = doc["int8_policy"]
    assert policy["mode"] == "auto" and len(policy["sensitivity"]) >= 5
    [artifact] = doc["artifacts"]
    order = [b["block"] for b in sorted(policy["sensitivity"], key=lambda b: b["cosine"])]
    kept = artifact["int8_policy"]["keep_float"]
    assert kept[len(policy["keep_float"]):] == [b for b in order if b not in policy["keep_float"]][:len(kept) -
                                                                                                   len(policy["keep_float"])]
    assert len(kept) > len(policy["keep_float"])  # it widened
    widened = [line for line in strict["lines"] if "below --min-cosine 0.9995; keeping" in line]
    assert len(widened) == len(kept) - len(policy["keep_float"]) <= MAX_WIDENINGS
    passed = artifact["parity"]["cosine"] >= 0.9995
    assert artifact["parity"]["passed"] is passed
    assert passed or len(widened) == MAX_WIDENINGS  # it stops only at the floor or at its limit
    report = (strict["out"] / "report.md").read_text()
    assert "int8 (auto):" in report and f"tiny_int8.onnx: float kept for {', '.join(sorted(kept))}" in report


def test_litert_tries_dynamic_int8_first_and_keeps_float_blocks_when_it_is_not_enough(tmp_path) -> None:
    # One output channel of a conv 300x the others: it sets the activation range of the whole tensor, per input
    # as much as at calibration, so dynamic int8 (activations quantized at run time) cannot save this one.
    torch.manual_seed(0)
    encoder = build_encoder(preset("tiny"))
    with torch.no_grad():
        encoder.feature_extractor.conv_layers[1].conv.weight[0] *= 300.0
    source = save_checkpoint(encoder, tmp_path / "fragile")
    options = ExportOptions(targets=("tflite",), precisions=("int8",), seconds=1.0, calib_windows=4, timing_runs=0,)
    lines: list[str] = []
    doc = export_bundle(source, tmp_path / "bundle", options, progress=lines.append)
    [artifact] = doc["artifacts"]
    assert doc["int8_policy"]["keep_float"]  # the screening flags the front end
    tried = [line for line in lines if "dynamic int8 with no block float" in line]
    assert len(tried) == 1 and "keeping the flagged blocks float" in tried[0]
    assert artifact["recipe"] == "pt2e-litert-static-per-channel"  # float blocks need the static recipe
    assert artifact["keep_float"] == sorted(doc["int8_policy"]["keep_float"])
    dynamic_cosine = float(re.search(r"cosine (\d\.\d+)", tried[0]).group(1))
    assert not plan_int8("auto", (), lambda: sensitivities(doc)).tolerates(dynamic_cosine)
    assert artifact["parity"]["passed"] is True and artifact["parity"]["cosine"] > dynamic_cosine


def sensitivities(doc: dict) -> list[BlockSensitivity]:
    return [BlockSensitivity(b["block"], b["cosine"], b["snr_db"]) for b in doc["int8_policy"]["sensitivity"]]


@pytest.fixture(scope="module")
def thin_fithubert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """fithubert's conv front end and time reduction at 1/8 width: like the preset, its last conv stands out
    in the screening, and every runtime's dynamic int8 keeps it with no block float."""
    full = preset("fithubert")
    convs = tuple((channels // 8, kernel, stride) for channels, kernel, stride in full.conv_layers)
    config = dataclasses.replace(full, conv_layers=convs, dim=64, layers=2, heads=4, ffn_dim=64, pos_conv_kernel=16,
                                 pos_conv_groups=4)
    torch.manual_seed(0)
    return save_checkpoint(build_encoder(config), tmp_path_factory.mktemp("thin") / "model")


# Each runtime's run-time (dynamic) recipe, and what it becomes with blocks kept float (LiteRT's turns static).
RUN_TIME_RECIPES = {"tflite": ("pt2e-litert-dynamic-per-channel", "pt2e-litert-static-per-channel"),
                    "pte": ("pt2e-xnnpack-dynamic-per-channel-float-norms",) * 2,
                    "onnx": ("ort-dynamic-per-row-matmuls",) * 2}


@pytest.mark.parametrize("margin", [0.0, 1e9], ids=["dynamic-kept", "float-kept"])
def test_run_time_int8_replaces_float_blocks_only_when_it_is_clearly_faster(
        thin_fithubert: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, margin: float) -> None:
    # The timings are real and noisy, so the margin forces each outcome: 0 (any time wins) and 1e9 (none does).
    monkeypatch.setattr(policy, "RUN_TIME_MARGIN", margin)
    options = ExportOptions(targets=tuple(RUN_TIME_RECIPES), precisions=("int8",), seconds=1.0, calib_windows=4,
                            timing_runs=0, executorch_int8="dynamic", onnx_int8="dynamic")
    lines: list[str] = []
    doc = export_bundle(thin_fithubert, tmp_path / "bundle", options, progress=lines.append)
    flagged = doc["int8_policy"]["keep_float"]
    assert flagged and len(doc["artifacts"]) == len(RUN_TIME_RECIPES)
    for artifact in doc["artifacts"]:
        target = artifact["file"].rsplit(".", 1)[1]
        assert any(line.startswith(f"{artifact['file']}: ") and "side by side" in line for line in lines)
        reason = artifact["int8_policy"]["reason"]
        if margin == 0.0:
            assert (artifact["recipe"], artifact["keep_float"]) == (RUN_TIME_RECIPES[target][0], [])
            assert "none kept float: dynamic int8" in reason
        else:
            assert (artifact["recipe"], artifact["keep_float"]) == (RUN_TIME_RECIPES[target][1], sorted(flagged))
            assert "not dynamic int8" in reason and f"is not {margin:g}x faster" in reason
        # Only a recipe that observes activation ranges has a calibration to choose.
        assert ("calibration" in artifact) is artifact["recipe"].endswith("static-per-channel")
        kept = tmp_path / "bundle" / artifact["file"]
        assert artifact["sha256"] == sha256_file(kept)  # the kept candidate's file, not the other's
        assert artifact["parity"]["passed"] is True
    assert sorted(p.name for p in (tmp_path / "bundle").iterdir() if p.name.startswith(".")) == []  # no leftovers
