"""``fitedge import --heads/--encoder/--guess`` and ``fitedge.load(heads=, config=, guess=)``: the facts a
torchaudio state dict does not carry.

The checkpoint is a real torchaudio-layout state dict written here from a transformers model of 64 width and
4 heads, a shape no released model has, so the head count cannot be inferred: the head-size-64 guess (1 head)
gives other numbers.
"""

from __future__ import annotations

import logging

import pytest
import torch
from click.testing import CliRunner

import fitedge
from fitedge.cli import cli
from fitedge.distill.checkpoints.transformers import config_from_hf
from fitedge.errors import CheckpointError
from tests.helpers.foundation_models import hf_model, to_torchaudio

WAV = torch.randn(1, 3200, generator=torch.Generator().manual_seed(11))


@pytest.fixture(scope="module")
def source():
    return hf_model("wav2vec2-postln", seed=4, hidden_size=64, heads=4)


@pytest.fixture(scope="module")
def torchaudio_file(source, tmp_path_factory):
    path = tmp_path_factory.mktemp("ta") / "wav2vec2_64x4.pth"
    torch.save(to_torchaudio({k: v for k, v in source.state_dict().items() if k != "masked_spec_embed"}), path)
    return path


def max_difference(encoder, reference) -> float:
    with torch.no_grad():
        mine = encoder.for_inference()(WAV).hidden_states
        theirs = reference(WAV, output_hidden_states=True).hidden_states
    return max((a - b).abs().max().item() for a, b in zip(mine, theirs, strict=True))


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_import_with_heads_matches_the_source_model(torchaudio_file, source, tmp_path) -> None:
    result = invoke("import", torchaudio_file, "--out", tmp_path / "m", "--heads", 4)
    assert result.exit_code == 0, result.output
    assert "4 heads" in result.output
    encoder = fitedge.load(tmp_path / "m")
    assert encoder.config.heads == 4 and "heads" not in encoder.meta["config_guessed"]
    assert max_difference(encoder, source) <= 1e-5


def test_import_without_the_facts_fails_in_one_line(torchaudio_file, tmp_path) -> None:
    out = tmp_path / "m"
    result = invoke("import", torchaudio_file, "--out", out)
    message = result.output.strip()
    assert result.exit_code == 1 and "\n" not in message and message.startswith("Error: ")
    assert all(flag in message for flag in ("--heads", "--encoder", "--guess", "64-wide"))
    assert not out.exists()


def test_import_with_guess_warns_and_takes_one_head(torchaudio_file, source, tmp_path) -> None:
    result = invoke("import", torchaudio_file, "--out", tmp_path / "m", "--guess")
    assert result.exit_code == 0, result.output
    assert "guessed 1 attention head" in result.output and "--guess" in result.output
    encoder = fitedge.load(tmp_path / "m")
    assert encoder.config.heads == 1 and "heads" in encoder.meta["config_guessed"]
    assert max_difference(encoder, source) > 1e-4  # why the guess is not taken silently


def test_import_with_a_config_file_and_a_clear_error_when_it_does_not_fit(torchaudio_file, source,
                                                                         tmp_path) -> None:
    config = config_from_hf(source.config.to_dict(), "hf")
    config.save(tmp_path / "encoder.json")
    result = invoke("import", torchaudio_file, "--out", tmp_path / "m", "--encoder", tmp_path / "encoder.json")
    assert result.exit_code == 0, result.output
    encoder = fitedge.load(tmp_path / "m")
    assert encoder.config == config and max_difference(encoder, source) <= 1e-5

    config.replace(dim=32, pos_conv_groups=4).save(tmp_path / "wrong.json")
    result = invoke("import", torchaudio_file, "--out", tmp_path / "w", "--encoder", tmp_path / "wrong.json")
    assert result.exit_code == 1 and "do not fit the given config: dim 64 (config 32)" in result.output
    result = invoke("import", torchaudio_file, "--out", tmp_path / "w", "--encoder", tmp_path / "encoder.json",
                    "--heads", 2)
    assert result.exit_code == 1 and "--heads 2" in result.output


def test_load_takes_the_same_facts(torchaudio_file, source, caplog, tmp_path) -> None:
    with pytest.raises(CheckpointError, match="heads="):
        fitedge.load(torchaudio_file)
    assert max_difference(fitedge.load(torchaudio_file, heads=4), source) <= 1e-5
    config = config_from_hf(source.config.to_dict(), "hf")
    assert fitedge.load(torchaudio_file, config=config).config == config
    with caplog.at_level(logging.WARNING):
        assert fitedge.load(torchaudio_file, guess=True).config.heads == 1
    assert "guessed 1 attention head" in caplog.text
    with pytest.raises(CheckpointError, match="is a preset"):
        fitedge.load("tiny", heads=4)


def test_a_released_width_needs_no_facts() -> None:
    from fitedge.distill.checkpoints.infer_config import RELEASED_HEADS, _default_heads

    assert _default_heads(1280, 5120, "x", required=True, guess=False) == 16  # hubert_xlarge: 16 heads of 80
    assert RELEASED_HEADS[768, 3072] == 12
