"""int8 auto's search and its widening after a gate's refusal, with the runtime side faked: no lowering runs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from fitedge.parity import Parity
from fitedge.quantize.auto.policy import MAX_WIDENINGS, plan_int8
from fitedge.quantize.auto.refused import widen_while_refused, widened_after_refusal
from fitedge.quantize.auto.search import RUN_TIME_FOLDER, Int8Target, Lowered, search_int8
from fitedge.quantize.auto.sensitivity import BlockSensitivity

BLOCKS = [BlockSensitivity(f"encoder.layers.{i}", 0.9999 - 0.00001 * i, 30.0) for i in range(8)]
BLOCKS[7] = BlockSensitivity("feature_extractor.conv_layers.0", 0.90, 9.0)  # stands out: the first plan keeps it


def fake_target(folder: Path, cosine_by_floats: dict[int, float], lowered: list[tuple[str, ...]],
                run_time: bool = False, times: tuple[float, float] = (10.0, 30.0)) -> Int8Target:
    """A target whose artifact's cosine depends only on how many blocks are float; it records what was lowered."""
    def lower(keep_float: tuple[str, ...], into: Path) -> Lowered:
        lowered.append(keep_float)
        path = into / "m_int8.tflite"
        path.write_text(repr(keep_float))
        return Lowered({"keep_float": list(keep_float)}, object(), path,
                       Parity(cosine_by_floats[len(keep_float)], 0.1, 20.0))

    return Int8Target("m_int8.tflite", folder, 0.99, run_time, lower, lambda runners, rounds: list(times))


def test_the_search_widens_in_order_of_harm_until_the_floor(tmp_path: Path) -> None:
    plan = plan_int8("auto", (), lambda: BLOCKS)
    lowered: list[tuple[str, ...]] = []
    lines: list[str] = []
    chosen = search_int8(fake_target(tmp_path, {1: 0.95, 2: 0.98, 3: 0.995}, lowered), plan, lines.append)
    assert lowered == [("feature_extractor.conv_layers.0",), ("feature_extractor.conv_layers.0", "encoder.layers.6"),
                       ("feature_extractor.conv_layers.0", "encoder.layers.6", "encoder.layers.5")]
    assert chosen.plan.keep_float == lowered[-1] and chosen.plan.widened == 2
    assert chosen.artifact.parity.cosine == 0.995
    assert lines[-1].endswith("below --min-cosine 0.99; keeping encoder.layers.5 float too")


def test_the_search_stops_at_its_limit_below_the_floor(tmp_path: Path) -> None:
    lowered: list[tuple[str, ...]] = []
    chosen = search_int8(fake_target(tmp_path, dict.fromkeys(range(9), 0.5), lowered),
                         plan_int8("auto", (), lambda: BLOCKS), lambda line: None)
    assert len(lowered) == MAX_WIDENINGS + 1 and chosen.artifact.parity.cosine == 0.5


def test_run_time_int8_replaces_the_float_blocks_when_clearly_faster(tmp_path: Path) -> None:
    plan = plan_int8("auto", (), lambda: BLOCKS)
    lowered: list[tuple[str, ...]] = []
    chosen = search_int8(fake_target(tmp_path, {0: 0.9999, 1: 0.9999}, lowered, run_time=True), plan,
                         lambda line: None)
    assert lowered == [(), plan.keep_float]  # run-time int8 first, in its own folder, then the float blocks
    assert chosen.plan.keep_float == () and chosen.plan.run_time_quantized == plan.keep_float
    assert chosen.artifact.path == tmp_path / "m_int8.tflite" and chosen.artifact.path.read_text() == "()"
    assert not (tmp_path / RUN_TIME_FOLDER).exists()
    (tmp_path / "b").mkdir()
    slower = search_int8(fake_target(tmp_path / "b", {0: 0.9999, 1: 0.9999}, [], run_time=True, times=(29.0, 30.0)),
                         plan, lambda line: None)  # 30 ms is not 1.15x of 29 ms: the float blocks stay
    assert slower.plan.keep_float == plan.keep_float and "not dynamic int8" in slower.plan.reason
    assert (tmp_path / "b" / "m_int8.tflite").read_text() == repr(plan.keep_float)
    assert not (tmp_path / "b" / RUN_TIME_FOLDER).exists()


@dataclass(frozen=True)
class Judged:
    """One artifact's verdict."""

    file: str
    passed: bool


@dataclass(frozen=True)
class Verdict:
    """A gate's verdicts, as :class:`fitedge.bench.eval.gate.GateResult` offers them to the widening."""

    artifacts: list[Judged]

    @property
    def refused(self) -> list[Judged]:
        return [a for a in self.artifacts if not a.passed]

    def replacing(self, artifacts: list[Judged]) -> Verdict:
        new = {a.file: a for a in artifacts}
        return replace(self, artifacts=[new.get(a.file, a) for a in self.artifacts])


def test_a_refused_artifact_is_widened_and_gated_again_until_none_can_widen() -> None:
    plans = {"a.onnx": plan_int8("auto", (), lambda: BLOCKS), "b.onnx": None}  # b is fp32: nothing to widen
    lines: list[str] = []
    regated: list[set[str]] = []

    def widen(file: str, why: str) -> bool:
        wider = widened_after_refusal(file, plans[file], why, lines.append)
        plans[file] = wider
        return wider is not None

    def regate(files: set[str]) -> list[Judged]:
        regated.append(files)
        return [Judged(f, passed=False) for f in sorted(files)]

    first = Verdict([Judged("a.onnx", False), Judged("b.onnx", False), Judged("c.onnx", True)])
    final = widen_while_refused(first, widen, lambda entry: "PER +9 points", regate)
    assert regated == [{"a.onnx"}] * MAX_WIDENINGS  # only the one that could widen, until its limit
    assert [a.file for a in final.refused] == ["a.onnx", "b.onnx"]
    assert lines[0] == "a.onnx: PER +9 points; keeping encoder.layers.6 float too" and len(lines) == MAX_WIDENINGS
    assert widen_while_refused(first, None, lambda entry: "", regate) is first


def test_widening_stops_once_the_gate_accepts() -> None:
    plan = plan_int8("auto", (), lambda: BLOCKS)
    regated: list[set[str]] = []

    def regate(files: set[str]) -> list[Judged]:
        regated.append(files)
        return [Judged(f, passed=True) for f in files]

    final = widen_while_refused(Verdict([Judged("a.onnx", False)]),
                                lambda file, why: widened_after_refusal(file, plan, why, print) is not None,
                                lambda entry: "PER +9 points", regate)
    assert regated == [{"a.onnx"}] and final.refused == []
