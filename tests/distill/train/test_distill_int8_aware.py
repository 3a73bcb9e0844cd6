"""Int8-aware distillation on real espeak-ng speech with tiny models: fake int8 changes the forward pass and comes
out without a trace, the trained checkpoint holds plain float weights and a record of it, and a run with fake
quantization on resumes exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from click.testing import CliRunner

import fitedge
from fitedge.cli import cli
from fitedge.distill.checkpoints.folder import read_checkpoint
from fitedge.distill.data.datasets import list_audio
from fitedge.distill.models.encoder import build_encoder
from fitedge.distill.train.distillation import DistillConfig, distill
from fitedge.distill.train.distributed import DistEnv
from fitedge.distill.train.int8_aware import Int8Aware
from fitedge.distill.train.run_log import read_log
from tests.helpers.models import NO_DROPOUT, tiny_student
from tests.helpers.speech import espeak


def read_speech_sample() -> np.ndarray:
    return espeak("int eight aware training", "en-us")


def _train(teacher_dir: Path, speech: Path, out: Path, **cfg) -> Path:
    torch.manual_seed(0)
    config = DistillConfig(**{"batch_seconds": 4.0, "crop_seconds": None, "lr": 2e-3, "log_every": 5, **cfg})
    return distill(fitedge.load(teacher_dir), build_encoder(tiny_student()), list_audio(speech), [], config, out,
                   DistEnv())


def test_fake_int8_perturbs_the_forward_pass_and_comes_out_without_a_trace() -> None:
    torch.manual_seed(0)
    encoder = build_encoder(tiny_student(**NO_DROPOUT))  # weight norm on: its parametrization must survive
    keys = set(encoder.state_dict())
    wav = torch.from_numpy(read_speech_sample())[None]
    with torch.no_grad():
        reference = encoder(wav).last_hidden_state
        int8_aware = Int8Aware(encoder, start=0.5)
        int8_aware.follow(0.4)
        assert torch.equal(encoder(wav).last_hidden_state, reference)  # before its share of the schedule: off
        int8_aware.follow(0.5)
        rounded = encoder(wav).last_hidden_state
        saved_mid_run = {k: v.clone() for k, v in int8_aware.float_state_dict().items()}
        record = int8_aware.remove()
        after = encoder(wav).last_hidden_state
    change = float((rounded - reference).norm() / reference.norm())
    assert 1e-3 < change < 0.2, f"fake int8 changed the output by {change:.4f} (relative)"
    assert torch.equal(after, reference) and set(encoder.state_dict()) == keys and encoder.weight_normed
    # what a checkpoint written mid-run holds is what the run leaves at its end: the plain float weights
    assert saved_mid_run.keys() == keys
    assert all(torch.equal(v, saved_mid_run[k]) for k, v in encoder.state_dict().items())
    assert record["trained_int8_aware"] is True and len(record["activation_ranges"]) == len(int8_aware.modules)


def test_int8_aware_continuation_trains_through_fake_int8_and_records_it(teacher_dir, speech, tmp_path) -> None:
    base = _train(teacher_dir, speech, tmp_path / "base", max_steps=10).final_dir
    common = ["distill", "--teacher", str(teacher_dir), "--init-from", str(base), "--data", str(speech),
              "--steps", "4", "--lr", "1e-3", "--batch-seconds", "4", "--crop-seconds", "0",
              "--log-every", "1"]
    for name, extra in (("plain", []), ("aware", ["--int8-aware", "--int8-aware-from", "0"])):
        result = CliRunner().invoke(cli, [*common, "--out", str(tmp_path / name), *extra])
        assert result.exit_code == 0, result.output
    plain, aware = (read_log(tmp_path / name / "log.jsonl")[0]["loss"] for name in ("plain", "aware"))
    # Same start, seed and first batch: only the fake int8 rounding can make the first losses differ.
    assert plain != aware and abs(aware - plain) < 0.2 * plain, (plain, aware)

    record = json.loads((tmp_path / "aware" / "final" / "config.json").read_text())["int8_aware"]
    assert record["trained_int8_aware"] is True and record["from"] == 0.0
    student = fitedge.load(tmp_path / "aware" / "final")
    quantized = [n for n, m in student.named_modules() if isinstance(m, torch.nn.Conv1d | torch.nn.Linear)]
    assert sorted(record["activation_ranges"]) == sorted(quantized)
    assert all(low < high for r in record["activation_ranges"].values() for low, high in r.values())
    # plain float weights under the plain names, as a run without --int8-aware saves them
    assert set(student.state_dict()) == set(fitedge.load(tmp_path / "plain" / "final").state_dict())
    assert "int8_aware" not in json.loads((tmp_path / "plain" / "final" / "config.json").read_text())


def test_the_best_student_of_an_int8_aware_run_is_one_trained_int8_aware_and_loads(teacher_dir, speech,
                                                                                  tmp_path) -> None:
    items = list_audio(speech)
    torch.manual_seed(0)
    config = DistillConfig(batch_seconds=4.0, crop_seconds=None, lr=2e-3, max_steps=8, valid_every=2,
                           int8_aware_from=0.5)
    distill(fitedge.load(teacher_dir), build_encoder(tiny_student()), items, items, config, tmp_path / "run",
            DistEnv())
    validations = [r["step"] for r in read_log(tmp_path / "run" / "log.jsonl") if r["kind"] == "valid"]
    assert validations == [2, 4, 6, 8]
    best = read_checkpoint(tmp_path / "run" / "best")
    # Fake int8 is on from step 4 (half of 8): the float-trained best of step 2 was dropped when it went on.
    assert best.meta["distill"]["step"] >= 6 and best.meta["int8_aware"]["trained_int8_aware"] is True
    student = fitedge.load(tmp_path / "run" / "best")  # plain float weights under the plain names
    assert set(student.state_dict()) == set(fitedge.load(tmp_path / "run" / "final").state_dict())


def test_a_continuation_takes_the_checkpoint_into_a_student_of_the_same_shapes(teacher_dir, speech,
                                                                              tmp_path) -> None:
    """``--init-from`` with ``--student``: the GroupNorm student's weights continue in the per-frame front end."""
    base = _train(teacher_dir, speech, tmp_path / "base", max_steps=2).final_dir
    edge = tmp_path / "edge.json"
    read_checkpoint(base).config.replace(extractor_mode="frame_layer_norm").save(edge)
    args = ["distill", "--teacher", str(teacher_dir), "--init-from", str(base), "--data", str(speech), "--steps", "1",
            "--batch-seconds", "4", "--crop-seconds", "0"]
    result = CliRunner().invoke(cli, [*args, "--student", str(edge), "--out", str(tmp_path / "edge")])
    assert result.exit_code == 0, result.output
    start, continued = read_checkpoint(base), read_checkpoint(tmp_path / "edge" / "final")
    assert continued.config.extractor_mode == "frame_layer_norm" and start.config.extractor_mode == "group_norm"
    assert continued.state_dict.keys() == start.state_dict.keys()
    # One step at the schedule's first (warm-up) learning rate: the weights moved from the start, not from scratch.
    moved = max(float((continued.state_dict[k] - v).abs().max()) for k, v in start.state_dict.items())
    assert 0 < moved < 0.05, moved
    wrong = CliRunner().invoke(cli, [*args, "--student", "fithubert", "--out", str(tmp_path / "wrong")])
    assert wrong.exit_code == 1 and "as --student fithubert" in wrong.output and "Traceback" not in wrong.output
    assert not (tmp_path / "wrong" / "final").exists()


def test_a_run_stopped_with_fake_quantization_on_resumes_to_the_same_weights(teacher_dir, speech,
                                                                             tmp_path) -> None:
    config = {"max_steps": 8, "int8_aware_from": 0.0}
    whole = _train(teacher_dir, speech, tmp_path / "whole", **config)
    stopped = _train(teacher_dir, speech, tmp_path / "split", **config, max_minutes=0)  # stops after one step
    assert stopped.steps < 8
    resumed = distill(fitedge.load(teacher_dir), build_encoder(tiny_student()), list_audio(speech), [],
                      DistillConfig(batch_seconds=4.0, crop_seconds=None, lr=2e-3, log_every=5, **config),
                      tmp_path / "split", DistEnv(), resume=True)
    a, b = read_checkpoint(whole.final_dir), read_checkpoint(resumed.final_dir)
    assert resumed.steps == 8 and b.meta["int8_aware"] == a.meta["int8_aware"]
    for k, v in a.state_dict.items():
        assert torch.equal(v, b.state_dict[k]), k


def test_bad_int8_aware_options_are_refused_in_one_line(teacher_dir, speech, tmp_path) -> None:
    args = ["distill", "--teacher", str(teacher_dir), "--data", str(speech), "--out", str(tmp_path / "run")]
    neither = CliRunner().invoke(cli, args)
    assert neither.exit_code == 1 and "give --student" in neither.output and "Traceback" not in neither.output
    late = CliRunner().invoke(cli, [*args, "--student", "tiny", "--int8-aware", "--int8-aware-from", "1"])
    assert late.exit_code == 2 and "int8-aware-from" in late.output
    assert not (tmp_path / "run" / "final").exists()
