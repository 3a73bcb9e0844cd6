"""The recipe's students and report: sizes at the paper's ratio, the int8-aware rows, what int8 auto kept float,
and the test-set size the measured paired intervals ask for."""

from __future__ import annotations

import json

import pytest

from fitedge.bench.endtoend.evaluation import Row
from fitedge.bench.endtoend.pipeline import (
    DISTILHUBERT_STUDENT,
    FITHUBERT_INT8_STUDENT,
    FITHUBERT_STREAM_STUDENT,
    FITHUBERT_STUDENT,
    INT8_AWARE,
    STREAM_SETTINGS,
    STUDENTS,
    TEACHER,
    Paths,
    StepLog,
    _cmd,
    training_runs,
)
from fitedge.bench.endtoend.report import sizing_lines, write_recipe_report
from fitedge.distill.models.encoder import build_encoder


def test_students_are_about_the_papers_share_of_the_teacher() -> None:
    teacher = build_encoder(TEACHER).num_parameters()
    for student in (FITHUBERT_STUDENT, DISTILHUBERT_STUDENT):
        assert build_encoder(student).num_parameters() / teacher == pytest.approx(0.238, abs=0.01)
    assert FITHUBERT_STUDENT.layers == TEACHER.layers and DISTILHUBERT_STUDENT.layers == 2  # thin-deep vs wide-shallow


def test_the_int8_aware_student_is_the_fithubert_students_twin_with_companded_audio() -> None:
    assert STUDENTS[INT8_AWARE] == (FITHUBERT_INT8_STUDENT, "fithubert")  # its own run, the same objective
    assert FITHUBERT_INT8_STUDENT.mu_law > 0 and FITHUBERT_INT8_STUDENT.replace(mu_law=0.0) == FITHUBERT_STUDENT


def test_the_streaming_student_is_the_fithubert_students_twin_and_streams_at_the_compared_latency() -> None:
    from fitedge.edge.stream.geometry import StreamGeometry, model_hop_and_receptive

    stream, plain = build_encoder(FITHUBERT_STREAM_STUDENT), build_encoder(FITHUBERT_STUDENT)
    assert abs(stream.num_parameters() - plain.num_parameters()) / plain.num_parameters() < 0.01
    assert FITHUBERT_STREAM_STUDENT.replace(extractor_mode="group_norm", conv_activation="gelu", pos_conv_causal=False,
                                            attention_chunk_frames=0, attention_left_frames=0) == FITHUBERT_STUDENT
    hop, receptive = model_hop_and_receptive(FITHUBERT_STREAM_STUDENT)
    chunk_ms = StreamGeometry.from_ms(hop, receptive, *STREAM_SETTINGS[0][:3]).chunk * 1000 * hop / 16000
    assert chunk_ms == FITHUBERT_STREAM_STUDENT.attention_chunk_frames * 1000 * hop / 16000  # its own chunks


def test_the_streaming_table_gives_each_setting_its_change_against_full(tmp_path) -> None:
    streamed = [{"chunk_ms": 320.0, "left_ms": 1280.0, "right_ms": 0.0, "algorithmic_latency_ms": 345.0, "per": 0.31,
                 "ci_low": 0.29, "ci_high": 0.33, "increase_points": 6.0, "increase_ci_points": [5.1, 6.9]},
                {"chunk_ms": 640.0, "left_ms": 1280.0, "right_ms": 320.0, "algorithmic_latency_ms": 965.0, "per": 0.26,
                 "ci_low": 0.24, "ci_high": 0.28, "increase_points": 1.0, "increase_ci_points": [0.5, 1.5],
                 "fill_edges": True}]
    streaming = [{"model": "FitHuBERT student", "per": 0.25, "ci_low": 0.23, "ci_high": 0.27, "utterances": 950,
                  "streamed": streamed}]
    report = write_recipe_report(tmp_path / "report", [], StepLog(), {}, {}, streaming).read_text()
    assert "## Streaming" in report
    assert "| FitHuBERT student | 320 / 1280 / 0 | 345 | 25.00 | 31.00 | +6.00 (+5.10..+6.90) |" in report
    assert "| FitHuBERT student | 640 / 1280 / 320, filled | 965 | 25.00 | 26.00 | +1.00 (+0.50..+1.50) |" in report
    assert json.loads((tmp_path / "report" / "streaming.json").read_text()) == streaming


def _artifact(name: str, per: float, increase: float, half: float, kept: list[str] | None, latency: float) -> Row:
    numbers = {"per": per, "ci_low": per - 0.02, "ci_high": per + 0.02, "increase_points": increase,
               "increase_ci_points": [increase - half, increase + half], "utterances": 1000}
    return Row(name, "artifact", 817_000, 900_000, latency, {"synth": numbers}, keep_float=kept)


def test_int8_aware_rows_show_plain_and_auto_side_by_side(tmp_path) -> None:
    rows = [Row(f"{INT8_AWARE}: float (4 s)", "eager", 817_000, per={"synth": {"per": 0.2, "ci_low": 0.19,
                                                                                 "ci_high": 0.21}}),
            _artifact(f"{INT8_AWARE}+plain: final_int8.pte", 0.206, 0.6, 0.25, [], 3.2),
            _artifact(f"{INT8_AWARE}: final_int8.pte", 0.202, 0.2, 0.45, ["feature_extractor.conv_layers.0"], 4.1)]
    steps = StepLog(done={"distill fithubert-int8aware": 120.0})
    report = write_recipe_report(tmp_path / "report", rows, steps, {"synth_test_minutes": 50.0}, {}).read_text()
    lines = {line.split(" | ")[0].lstrip("| "): line for line in report.splitlines() if line.startswith("| fithubert")}
    plain, auto = lines[f"{INT8_AWARE}+plain: final_int8.pte"], lines[f"{INT8_AWARE}: final_int8.pte"]
    assert "| nothing |" in plain and "+0.60 (+0.35..+0.85) vs float" in plain and "| 3.2 |" in plain
    assert "| feature_extractor.conv_layers.0 |" in auto and "+0.20 (-0.25..+0.65) vs float" in auto
    assert lines[f"{INT8_AWARE}: float (4 s)"].endswith("| - |")  # not an int8 artifact: nothing to keep float
    # The widest paired interval is auto's +/-0.45 on 1000 utterances: +/-0.3 needs 1000 * 1.5**2.
    assert "+/-0.45 points" in report and "needs about 2250" in report
    assert json.loads((tmp_path / "report" / "table.json").read_text())[2]["keep_float"] == [
        "feature_extractor.conv_layers.0"]


def test_sizing_without_paired_intervals() -> None:
    assert sizing_lines([Row("MFCC (floor)", "features", per={"synth": {"per": 0.5, "ci_low": 0.4,
                                                                          "ci_high": 0.6}})]) == [
        "- no paired artifact intervals measured"]


def test_the_int8_aware_run_has_its_training_line(tmp_path) -> None:
    p = Paths(tmp_path)
    (p.distill_run(INT8_AWARE) / "final").mkdir(parents=True)
    (p.distill_run(INT8_AWARE) / "final" / "config.json").write_text(json.dumps(
        {"distill": {"steps": 1300, "distill": {"max_minutes": 6.0, "int8_aware_from": 0.67}}}))
    assert training_runs(p) == {"FitHuBERT int8-aware student":
                                "1300 steps, learning rate scheduled over 6.0 minutes, fake int8 from 67% of it"}


def test_a_cached_step_reports_the_seconds_it_took_when_it_ran(tmp_path) -> None:
    p = Paths(tmp_path)
    marker = tmp_path / "done.txt"
    first = StepLog(times=p.step_times)
    _cmd(first, lambda line: None, "made a file", marker, ["--version"])
    assert first.ok("made a file") and first.done["made a file"] > 0  # ran: fitedge --version, no marker yet
    marker.write_text("x")
    again = StepLog(times=p.step_times)
    _cmd(again, lambda line: None, "made a file", marker, ["--version"])
    _cmd(again, lambda line: None, "from an older run", marker, ["--version"])
    assert again.ok("made a file") and "made a file" not in again.done
    report = write_recipe_report(tmp_path / "report", [], again, {}, {}).read_text()
    took = first.done["made a file"]
    assert f"- made a file: cached (took {took:g} s when it ran)" in report
    assert "- from an older run: cached\n" in report  # no time on record for it
