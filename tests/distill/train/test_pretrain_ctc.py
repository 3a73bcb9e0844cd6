"""The teacher's pre-training with a CTC phoneme loss: targets only for whole utterances, a loss that falls,
the setting recorded in the checkpoint, and one-line refusals without phonemes."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import torch

from fitedge.distill.checkpoints.folder import read_checkpoint
from fitedge.distill.data.datasets import AudioItem
from fitedge.distill.models.config import preset
from fitedge.distill.train.config import PretrainConfig
from fitedge.distill.train.phoneme_ctc import PhonemeTargets, batch_targets, corpus_targets, ctc_phoneme_loss
from fitedge.distill.train.pretraining import pretrain
from fitedge.errors import ConfigError
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.corpus import tiny_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return tiny_corpus(tmp_path_factory.mktemp("ctc") / "corpus", minutes=0.8)


def test_only_whole_utterances_get_a_target() -> None:
    targets = PhonemeTargets(("a", "b"), (np.array([1, 2]), np.array([2]), np.array([], dtype=np.int64)))
    items = [AudioItem(f"{i}.wav", 1600) for i in range(3)]  # type: ignore[arg-type]
    wavs = [np.zeros(1600), np.zeros(800), np.zeros(1600)]  # the second is a crop, the third has no phonemes
    rows = batch_targets(targets, [0, 1, 2], items, wavs)
    assert rows[0].tolist() == [1, 2] and rows[1] is None and rows[2] is None
    logits = torch.randn(3, 20, targets.classes)
    assert torch.isfinite(ctc_phoneme_loss(logits, torch.tensor([20, 10, 20]), rows))
    assert ctc_phoneme_loss(logits, torch.tensor([20, 10, 20]), [None, None, None]) is None


@pytest.mark.slow
def test_ctc_loss_falls_and_the_setting_is_recorded(corpus, tmp_path) -> None:
    torch.set_num_threads(1)
    items, targets = corpus_targets(corpus)
    assert len(items) == len(targets.labels) and targets.inventory[0] != "<blank>"
    # Crops longer than every utterance: each one has a CTC target.
    cfg = PretrainConfig(num_units=8, max_steps=30, batch_seconds=12.0, crop_seconds=12.0, lr=3e-3, log_every=1,
                         unmasked_weight=0.5, ctc_weight=1.0, kmeans_frames=5000)
    result = pretrain(preset("tiny"), cfg, items, items[:4], tmp_path / "run", targets=targets)
    ctc = [r["ctc_loss"] for r in result.history]
    assert len(ctc) == 30 and all(math.isfinite(x) for x in ctc)
    assert np.mean(ctc[-5:]) < 0.8 * np.mean(ctc[:5]), f"CTC loss went from {ctc[:5]} to {ctc[-5:]}"
    checkpoint = read_checkpoint(result.out_dir)
    assert checkpoint.heads["phone_head.weight"].shape == (targets.classes, preset("tiny").dim)
    meta = json.loads((result.out_dir / "config.json").read_text())["pretrain"]
    fields = {f.name for f in dataclasses.fields(PretrainConfig)}
    again = PretrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in meta.items() if k in fields})
    assert again == cfg


def test_a_ctc_weight_needs_phonemes(corpus, tmp_path) -> None:
    items, _ = corpus_targets(corpus)
    with pytest.raises(ConfigError, match="labelled corpus"):
        pretrain(preset("tiny"), PretrainConfig(ctc_weight=1.0, max_steps=1), items, items, tmp_path / "run")
    with pytest.raises(ConfigError, match="ctc_weight"):
        PretrainConfig(ctc_weight=-1.0)
    encoder = tmp_path / "tiny.json"
    preset("tiny").save(encoder)
    result = run_cli(*["pretrain", "--data", str(corpus / "train.tsv"), "--out", str(tmp_path / "cli"),
                      "--encoder", str(encoder), "--ctc-weight", "1", "--steps", "1"])
    assert_one_line_error(result, "--ctc-weight needs a labelled corpus folder")
