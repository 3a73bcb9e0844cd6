"""``--int8 auto``: blocks whose own int8 error stands out stay float, and more while an artifact misses the floor."""

from __future__ import annotations

import pytest

from fitedge.edge.export.options import ExportOptions
from fitedge.edge.export.pipeline import export_bundle
from fitedge.quantize.policy import MAX_WIDENINGS, plan_int8
from fitedge.quantize.sensitivity import BlockSensitivity

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
