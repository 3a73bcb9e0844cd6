"""Cost-aware int8 auto: the plan changes with what each block costs (injected costs), real costs measured on a tiny
model in ONNX Runtime, and an export that records each block's int8 error beside its float and int8 time."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from fitedge.distill.models.config import preset
from fitedge.distill.models.deployable import DeployableEncoder, OutputSpec
from fitedge.distill.models.encoder import build_encoder
from fitedge.edge.backends import BACKENDS
from fitedge.edge.export.options import ExportOptions
from fitedge.edge.export.per_block import float_and_int8_ms
from fitedge.quantize.auto.block_models import block_models
from fitedge.quantize.auto.policy import BlockCost, Int8Plan
from fitedge.quantize.auto.sensitivity import BlockSensitivity, blocks

SCREENED = (BlockSensitivity("conv.0", 0.990, 20.0), BlockSensitivity("conv.1", 0.9980, 27.0),
            BlockSensitivity("proj", 0.9985, 28.0), BlockSensitivity("layers", 0.9990, 30.0))


def auto_plan(keep: tuple[str, ...] = ("conv.0",)) -> Int8Plan:
    return Int8Plan("auto", keep, "screened", SCREENED)


def test_a_block_where_float_is_clearly_faster_is_kept_float_too() -> None:
    costs = [BlockCost("conv.0", 5.0, 2.0), BlockCost("conv.1", 1.0, 2.0), BlockCost("proj", 1.0, 1.05),
             BlockCost("layers", 9.0, 3.0)]
    plan = auto_plan().with_costs(costs, "onnxruntime")
    # proj's int8 is slower too, but within the noise margin: it stays int8 (no plan that flips between exports).
    assert plan.keep_float == ("conv.0", "conv.1")
    assert "conv.1 float too: faster float in onnxruntime" in plan.reason and "; " not in plan.reason
    assert plan.float_cost_ms == pytest.approx(3.0 - 1.0)
    same = auto_plan().with_costs([BlockCost(c.block, c.float_ms, 0.5 * c.float_ms) for c in costs], "onnxruntime")
    assert same.keep_float == ("conv.0",)


def test_widening_takes_the_most_int8_error_per_ms_saved() -> None:
    assert auto_plan().widen("missed").keep_float[-1] == "conv.1"  # without costs: the most harmful next
    costs = [BlockCost("conv.0", 5.0, 2.0), BlockCost("conv.1", 20.0, 5.0), BlockCost("proj", 0.6, 0.4),
             BlockCost("layers", 9.0, 3.0)]
    wider = auto_plan().with_costs(costs, "executorch").widen("missed")
    # conv.1 loses 0.002 for 15 ms saved, proj 0.0015 for 0.2 ms: proj float buys more accuracy per ms.
    assert wider.keep_float == ("conv.0", "proj")
    assert wider.float_cost_ms == pytest.approx(3.0 + 0.2)


def test_the_policy_entry_puts_each_blocks_int8_error_beside_its_times() -> None:
    costs = [BlockCost(r.block, 2.0, 1.0) for r in SCREENED]
    doc = auto_plan().with_costs(costs, "litert").to_dict()
    assert [b["block"] for b in doc["blocks"]] == [r.block for r in SCREENED]
    assert doc["blocks"][0] == {"block": "conv.0", "cosine": 0.99, "float_ms": 2.0, "int8_ms": 1.0, "float": True}
    assert doc["float_cost_ms"] == 1.0
    assert "blocks" not in auto_plan().to_dict()
    manual = Int8Plan("manual", ("conv.1",), "--keep-float")
    assert manual.with_costs(costs, "litert") == manual


def test_real_costs_of_a_tiny_model_in_onnx_runtime() -> None:
    torch.manual_seed(0)
    deployable = DeployableEncoder(build_encoder(preset("tiny")).for_inference(), OutputSpec()).eval()
    rng = np.random.default_rng(0)
    windows = [(0.1 * rng.standard_normal(8000)).astype(np.float32) for _ in range(2)]
    names = blocks(deployable, group_layers=True)
    times = float_and_int8_ms(BACKENDS.for_runtime("onnxruntime"), block_models(deployable, names, windows),
                              ExportOptions(), threads=1, rounds=3)
    assert list(times) == names
    costs = [BlockCost(name, f, i) for name, (f, i) in times.items()]
    assert all(math.isfinite(c.float_ms) and c.float_ms > 0 and c.int8_ms > 0 for c in costs)
    plan = Int8Plan("auto", (), "screened", tuple(BlockSensitivity(n, 0.999, 30.0) for n in names))
    costed = plan.with_costs(costs, "onnxruntime")
    assert set(costed.keep_float) == {c.block for c in costs if c.int8_ms > 1.15 * c.float_ms}
    assert len(costed.to_dict()["blocks"]) == len(names)


def test_an_auto_export_records_the_costs_per_artifact(tmp_path) -> None:
    from fitedge.edge.export.pipeline import export_bundle

    said: list[str] = []
    export_bundle("tiny", tmp_path / "b", ExportOptions(targets=("onnx",), precisions=("int8",), seconds=0.5,
                                                        threads=1, timing_runs=0, int8_costs=True),
                  progress=said.append)
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    entry, screened = manifest["artifacts"][0], [s["block"] for s in manifest["int8_policy"]["sensitivity"]]
    policy = entry["int8_policy"]
    assert [b["block"] for b in policy["blocks"]] == screened
    assert all(b["cosine"] is not None and b["float_ms"] > 0 and b["int8_ms"] > 0 for b in policy["blocks"])
    assert {b["block"] for b in policy["blocks"] if b["float"]} == set(entry["keep_float"])
    assert any("timing each block alone in onnxruntime" in line for line in said)
