"""Checkpoint import from every layout users bring: transformers, fairseq, torchaudio, official FitHuBERT."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import fitedge
from fitedge.distill.checkpoints.detect import import_checkpoint, import_to_folder
from fitedge.distill.checkpoints.infer_config import ConfigFacts
from fitedge.distill.models.config import PRESETS
from fitedge.distill.models.encoder import build_encoder
from tests.helpers.foundation_models import (
    hf_model,
    legacy_weight_norm,
    to_fairseq,
    to_fithubert_student,
    to_torchaudio,
)

TOL = 1e-4
WAV = torch.randn(1, 3200, generator=torch.Generator().manual_seed(5))


def assert_same_hidden_states(encoder, reference):
    encoder = encoder.for_inference()
    with torch.no_grad():
        mine = encoder(WAV).hidden_states
        theirs = reference(WAV, output_hidden_states=True).hidden_states
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs, strict=True):
        assert (a - b).abs().max().item() <= TOL


@pytest.fixture(scope="module")
def hubert():
    return hf_model("hubert-postln", seed=3)


@pytest.fixture(scope="module")
def stable():
    return hf_model("hubert-stableln", seed=4)


def test_transformers_legacy_weight_norm_keys(hubert, tmp_path):
    hubert.save_pretrained(tmp_path)
    weights = tmp_path / "model.safetensors"
    state = load_file(weights)
    assert "encoder.pos_conv_embed.conv.parametrizations.weight.original0" in state
    save_file(legacy_weight_norm(state), weights)
    assert "encoder.pos_conv_embed.conv.weight_g" in load_file(weights)
    checkpoint = import_checkpoint(tmp_path)
    assert checkpoint.meta["imported_from"] == "transformers"
    assert_same_hidden_states(checkpoint.build(), hubert)


@pytest.mark.parametrize("name", ["hubert-postln", "wav2vec2-stableln"])
def test_transformers_ctc_prefix_and_head(name, tmp_path):
    model = hf_model(name, seed=6, ctc=True)
    model.save_pretrained(tmp_path)
    checkpoint = import_checkpoint(tmp_path)
    assert set(checkpoint.heads) == {"lm_head.weight", "lm_head.bias"}
    assert checkpoint.heads["lm_head.weight"].shape == (10, 32)
    backbone = model.hubert if name.startswith("hubert") else model.wav2vec2
    assert_same_hidden_states(checkpoint.build(), backbone)


def test_fairseq_pt_with_namespace_args_and_numpy_state(hubert, tmp_path):
    args = argparse.Namespace(
        conv_feature_layers="[(16, 10, 5), (16, 3, 2)] + [(24, 2, 2)] * 1", conv_bias=False, extractor_mode="default",
        encoder_embed_dim=32, encoder_layers=2, encoder_attention_heads=4, encoder_ffn_embed_dim=48,
        layer_norm_first=False, conv_pos=8, conv_pos_groups=4, activation_fn="gelu", dropout=0.1, normalize=False,
    )
    model_state = to_fairseq(hubert.state_dict(), layer_norm_extractor=False)
    model_state.pop("masked_spec_embed")
    model_state["mask_emb"] = torch.zeros(32)
    model_state["final_proj.weight"] = torch.randn(16, 32)
    model_state["label_embs_concat"] = torch.randn(20, 16)
    assert "encoder.pos_conv.0.weight_g" in model_state and "post_extract_proj.weight" in model_state
    path = tmp_path / "checkpoint_best.pt"
    torch.save({"args": args, "model": model_state, "optimizer_history": [{"criterion_name": "hubert"}],
                "extra_state": {"epoch": np.int64(7), "best_loss": np.float64(2.5), "dtype": np.dtype("float32")},
                "last_optimizer_state": {"state": {}}}, path)
    checkpoint = import_checkpoint(path)
    assert checkpoint.meta["imported_from"] == "fairseq" and checkpoint.meta["config_guessed"] == []
    assert checkpoint.config.heads == 4  # from args: 32 wide could not be guessed
    assert set(checkpoint.heads) == {"final_proj.weight", "label_embs_concat"}
    assert_same_hidden_states(checkpoint.build(), hubert)


def test_fairseq_pt_with_cfg_dicts_stable_layer_norm(stable, tmp_path):
    cfg = {"model": {"_name": "hubert", "conv_feature_layers": "[(16,10,5),(24,3,2)]", "conv_bias": True,
                     "extractor_mode": "layer_norm", "encoder_embed_dim": 32, "encoder_layers": 2,
                     "encoder_attention_heads": 4, "encoder_ffn_embed_dim": 48, "layer_norm_first": True,
                     "conv_pos": 8, "conv_pos_groups": 4, "dropout_input": 0.0},
           "task": {"_name": "hubert_pretraining", "normalize": True}}
    model_state = to_fairseq(stable.state_dict(), layer_norm_extractor=True)
    model_state.pop("masked_spec_embed")
    assert "feature_extractor.conv_layers.1.2.1.weight" in model_state
    path = tmp_path / "hubert_large_like.pt"
    torch.save({"cfg": cfg, "model": model_state}, path)
    encoder = fitedge.load(path)
    assert encoder.config.layer_norm_first and encoder.config.normalize_waveform
    assert encoder.config.extractor_mode == "layer_norm" and encoder.config.conv_bias
    # normalize=True: the encoder normalises itself, so compare against transformers on normalised audio.
    normalised = torch.nn.functional.layer_norm(WAV, WAV.shape[-1:], eps=1e-7)
    with torch.no_grad():
        mine = encoder.for_inference()(WAV).last_hidden_state
        theirs = stable(normalised).last_hidden_state
    assert (mine - theirs).abs().max().item() <= TOL


@pytest.fixture(scope="module")
def wide48():
    # 48 wide with 12 heads: what the shape rules guess when a file states no config.
    return hf_model("wav2vec2-stableln", seed=8, hidden_size=48, heads=12)


def test_torchaudio_state_dict_with_config_from_shapes(wide48, tmp_path):
    state = to_torchaudio({k: v for k, v in wide48.state_dict().items() if k != "masked_spec_embed"})
    state["aux.weight"], state["aux.bias"] = torch.randn(29, 48), torch.randn(29)
    assert "encoder.transformer.pos_conv_embed.conv.weight_v" in state
    path = tmp_path / "wav2vec2_torchaudio.pth"
    torch.save(state, path)
    checkpoint = import_checkpoint(path, facts=ConfigFacts(guess=True))  # 48/48 wide: not a released model's
    assert checkpoint.meta["imported_from"] == "torchaudio"
    assert set(checkpoint.meta["config_guessed"]) == {"conv strides", "heads", "layer_norm_first"}
    assert checkpoint.config.layer_norm_first and checkpoint.config.heads == 12
    assert set(checkpoint.heads) == {"aux.weight", "aux.bias"}
    assert_same_hidden_states(checkpoint.build(), wide48)


@pytest.mark.parametrize("wrapped", [False, True])
def test_fairseq_weights_without_any_config(wide48, wrapped, tmp_path):
    state = to_fairseq({k: v for k, v in wide48.state_dict().items() if k != "masked_spec_embed"},
                       layer_norm_extractor=True)
    path = tmp_path / "weights.pt"
    torch.save({"model": state} if wrapped else state, path)
    checkpoint = import_checkpoint(path)
    assert checkpoint.meta["imported_from"] == "fairseq"
    assert set(checkpoint.meta["config_guessed"]) == {"conv strides", "heads", "layer_norm_first"}
    assert_same_hidden_states(checkpoint.build(), wide48)
    with pytest.raises(fitedge.errors.CheckpointError, match="expected torchaudio key names|not a torchaudio"):
        import_checkpoint(path, format="torchaudio")


def fithubert_like_config():
    return PRESETS["fithubert"].replace(
        conv_layers=((16, 10, 5), (16, 1, 1), (24, 3, 2), (24, 3, 2), (32, 2, 2)), dim=32, layers=3, heads=4,
        ffn_dim=32, pos_conv_kernel=8, pos_conv_groups=4)


def write_fithubert_ckpt(path, student, with_hparams=True):
    """An official-FitHuBERT-style Lightning checkpoint around ``student`` (a fitedge encoder with a TR conv)."""
    lightning = {f"student_model.{k}": v for k, v in to_fithubert_student(student.state_dict()).items()}
    dim = student.config.dim
    for i in range(student.config.layers):
        lightning[f"student_model.proj_head.{i}.upsampler.weight"] = torch.randn(dim, dim, 2)
        lightning[f"student_model.proj_head.{i}.upsampler.bias"] = torch.randn(dim)
        lightning[f"student_model.proj_head.{i}.lin_proj.weight"] = torch.randn(768, dim)
        lightning[f"student_model.proj_head.{i}.lin_proj.bias"] = torch.randn(768)
    lightning["student_model.upsampler.weight"] = torch.randn(dim, dim, 2)
    lightning["student_model.upsampler.bias"] = torch.randn(dim)
    lightning["teacher_model.encoder.layers.0.fc1.weight"] = torch.randn(3072, 768)
    hparams = {"cfg": {"distiller": {"encoder_layers": 3, "encoder_embed_dim": dim, "encoder_attention_heads": 4,
                                     "encoder_ffn_embed_dim": dim, "layer_norm_first": False,
                                     "enable_tr_layer": True, "tr_layer_type": "conv1d", "tr_layer_index": 0,
                                     "tr_reduce_factor": 2, "conv_feature_layers":
                                         str([list(c) for c in student.config.conv_layers])}}}
    torch.save({"epoch": 3, "global_step": 100, "pytorch-lightning_version": "1.5.10", "state_dict": lightning,
                "callbacks": {"ModelCheckpoint": {"best_model_score": torch.tensor(0.5)}},
                "optimizer_states": [{"state": {}, "param_groups": [{"lr": 5e-4}]}], "lr_schedulers": [],
                **({"hyper_parameters": hparams} if with_hparams else {})}, path)


def test_official_fithubert_checkpoint(tmp_path):
    torch.manual_seed(9)
    student = build_encoder(fithubert_like_config()).eval()
    path = tmp_path / "fithubert.ckpt"
    write_fithubert_ckpt(path, student)
    checkpoint = import_checkpoint(path)
    assert checkpoint.meta["imported_from"] == "fithubert" and checkpoint.meta["config_guessed"] == []
    assert checkpoint.config.time_reduction == "conv1d" and checkpoint.config.layers == 3
    assert len(checkpoint.heads) == 3 * 4 + 2 and "proj_head.2.lin_proj.weight" in checkpoint.heads
    assert not any(k.startswith("teacher_model") for k in checkpoint.heads)
    encoder = checkpoint.build().for_inference()
    with torch.no_grad():
        mine, theirs = encoder(WAV), student.for_inference()(WAV)
    # 3200 samples: 639, 639, 319, 159, 79 extractor frames, then the TR conv halves them.
    assert mine.last_hidden_state.shape[1] == fithubert_like_config().num_frames(3200) == 79 // 2
    for a, b in zip(mine.hidden_states, theirs.hidden_states, strict=True):
        assert (a - b).abs().max().item() <= TOL


def test_fithubert_without_hparams_infers_config_and_import_writes_heads(tmp_path):
    config = fithubert_like_config().replace(dim=48, heads=12, ffn_dim=48)  # heads guessable from 48
    student = build_encoder(config).eval()
    path = tmp_path / "last.ckpt"
    write_fithubert_ckpt(path, student, with_hparams=False)
    out = import_to_folder(path, tmp_path / "imported")
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "heads.safetensors", "model.safetensors"]
    loaded = fitedge.load(out)
    assert loaded.config == config and loaded.meta["imported_from"] == "fithubert"
    assert len(load_file(out / "heads.safetensors")) == 3 * 4 + 2
    with torch.no_grad():
        diff = loaded.for_inference()(WAV).last_hidden_state - student.for_inference()(WAV).last_hidden_state
    assert diff.abs().max().item() <= TOL
    again = import_checkpoint(out)  # the written folder reads back as format "fitedge"
    assert again.config == config and set(again.heads) == set(load_file(out / "heads.safetensors"))


def test_format_override_is_respected(hubert, tmp_path):
    hubert.save_pretrained(tmp_path / "hf")
    with pytest.raises(fitedge.errors.CheckpointError, match="not a fitedge checkpoint"):
        import_checkpoint(tmp_path / "hf", format="fitedge")
    with pytest.raises(fitedge.errors.CheckpointError, match="unknown checkpoint format"):
        import_checkpoint(tmp_path / "hf", format="onnx")


def test_fithubert_time_reduction_of_another_type_is_refused(tmp_path):
    student = build_encoder(fithubert_like_config()).eval()
    path = tmp_path / "fc1.ckpt"
    write_fithubert_ckpt(path, student)
    ckpt = torch.load(path, weights_only=True)
    ckpt["state_dict"]["student_model.encoder.layers.0.weight"] = torch.zeros(32, 64)  # fc1: Linear(2 * dim, dim)
    torch.save(ckpt, path)
    with pytest.raises(fitedge.errors.CheckpointError, match="fc1/fc2 is not supported"):
        import_checkpoint(path)
    # A conv-shaped TR layer, but the hyper-parameters say fc2: refused too, by the config.
    tr_weight = student.state_dict()["encoder.time_reduction.conv.weight"]
    ckpt["state_dict"]["student_model.encoder.layers.0.weight"] = tr_weight
    ckpt["hyper_parameters"]["cfg"]["distiller"].update(tr_layer_type="fc2")
    torch.save(ckpt, path)
    with pytest.raises(fitedge.errors.CheckpointError, match="time reduction 'fc2' at layer index 0"):
        import_checkpoint(path)
