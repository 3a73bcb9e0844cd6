"""Bad input to ``fitedge import``/``info``/``fitedge.load``: one-line error, non-zero exit, no output folder."""

from __future__ import annotations

import json
import os

import pytest
import torch
from safetensors.torch import load_file, save_file

import fitedge
from fitedge.cli import cli
from fitedge.distill.checkpoints.folder import save_checkpoint
from fitedge.distill.models.config import PRESETS
from fitedge.distill.models.encoder import build_encoder
from fitedge.errors import CheckpointError, CheckpointKeyMismatch


class CreatesAFile:
    """A pickle that would create ``path`` when unpickled, if the loader were unsafe."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def fails_cleanly(runner, args, out, *expected):
    """Run the CLI, check it failed with exactly one line naming ``expected``, and wrote nothing."""
    result = runner.invoke(cli, [str(a) for a in args])
    message = result.output.strip()
    assert result.exit_code == 1, result.output
    assert "\n" not in message and "Traceback" not in message and message.startswith("Error: ")
    for text in expected:
        assert text in message
    if out is not None:
        assert not out.exists()
        assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]  # no temp folder
    return message


def tiny_fitedge_folder(path):
    save_checkpoint(build_encoder(PRESETS["tiny"]), path)
    return path


def test_unknown_preset(runner, tmp_path):
    fails_cleanly(runner, ["info", "hubert-small"], None, "hubert-small", "not a preset", "fithubert")
    with pytest.raises(CheckpointError, match="not a preset"):
        fitedge.load("hubert-small")


def test_missing_file(runner, tmp_path):
    out = tmp_path / "out"
    fails_cleanly(runner, ["import", tmp_path / "nowhere.pt", "--out", out], out, "nowhere.pt", "no such file")


def test_text_file_renamed_pt(runner, tmp_path):
    fake = tmp_path / "model.pt"
    fake.write_text("this is a README, not weights\n")
    out = tmp_path / "out"
    fails_cleanly(runner, ["import", fake, "--out", out], out, "model.pt", "not a checkpoint file")
    fails_cleanly(runner, ["import", fake, "--out", out, "--format", "fairseq"], out, "model.pt")


def test_truncated_safetensors(runner, tmp_path):
    folder = tiny_fitedge_folder(tmp_path / "ckpt")
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    out = tmp_path / "out"
    fails_cleanly(runner, ["import", folder, "--out", out], out, "model.safetensors", "corrupted or truncated")
    bare = tmp_path / "weights.safetensors"
    bare.write_bytes(weights.read_bytes())
    fails_cleanly(runner, ["import", bare, "--out", out], out, "weights.safetensors", "corrupted or truncated")


def test_truncated_torch_checkpoint(runner, tmp_path):
    path = tmp_path / "ckpt.pt"
    torch.save({"model": build_encoder(PRESETS["tiny"]).state_dict()}, path)
    path.write_bytes(path.read_bytes()[:2000])
    out = tmp_path / "out"
    fails_cleanly(runner, ["import", path, "--out", out], out, "ckpt.pt", "corrupted or truncated")


def test_other_architectures(runner, tmp_path):
    resnet = {"conv1.weight": torch.zeros(64, 3, 7, 7), "bn1.weight": torch.zeros(64),
              "bn1.running_mean": torch.zeros(64),
              "layer1.0.conv1.weight": torch.zeros(64, 64, 3, 3), "fc.weight": torch.zeros(1000, 512)}
    torch.save(resnet, tmp_path / "resnet18.pth")
    out = tmp_path / "out"
    fails_cleanly(runner, ["import", tmp_path / "resnet18.pth", "--out", out], out, "not a HuBERT/wav2vec2 checkpoint")
    bert = tmp_path / "bert"
    bert.mkdir()
    (bert / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 32}))
    save_file({"embeddings.word_embeddings.weight": torch.zeros(10, 32)}, bert / "model.safetensors")
    fails_cleanly(runner, ["import", bert, "--out", out], out, "not a HuBERT/wav2vec2 checkpoint", "bert")
    # A BERT-like state dict without a config is refused by its keys.
    save_file({"encoder.layer.0.attention.self.query.weight": torch.zeros(4, 4)}, tmp_path / "bert.safetensors")
    fails_cleanly(runner, ["import", tmp_path / "bert.safetensors", "--out", out], out, "not a HuBERT/wav2vec2")


def test_malicious_pickle_is_refused_without_running_it(runner, tmp_path):
    target = tmp_path / "pwned"
    path = tmp_path / "hubert.pt"
    torch.save({"model": {"w": torch.zeros(1)}, "cfg": CreatesAFile(target)}, path)
    out = tmp_path / "out"
    fails_cleanly(runner, ["import", path, "--out", out], out, "refused to unpickle", "mkdir")
    assert not target.exists()


def test_key_mismatches_name_the_key_and_the_file(runner, tmp_path):
    folder = tiny_fitedge_folder(tmp_path / "ckpt")
    state = load_file(folder / "model.safetensors")
    del state["encoder.layers.1.final_layer_norm.bias"]
    save_file(state, folder / "model.safetensors")
    out = tmp_path / "out"
    fails_cleanly(runner, ["import", folder, "--out", out], out, "missing encoder.layers.1.final_layer_norm.bias",
                  str(folder))
    state = load_file(tiny_fitedge_folder(tmp_path / "ckpt2") / "model.safetensors")
    state["encoder.layers.0.feed_forward.intermediate_dense.bias"] = torch.zeros(5)
    save_file(state, tmp_path / "ckpt2" / "model.safetensors")
    with pytest.raises(CheckpointKeyMismatch, match=r"intermediate_dense\.bias has shape \(5,\)"):
        fitedge.load(tmp_path / "ckpt2")


def test_existing_output_needs_force(runner, tmp_path):
    folder = tiny_fitedge_folder(tmp_path / "ckpt")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = runner.invoke(cli, ["import", str(folder), "--out", str(out)])
    assert result.exit_code == 1 and "--force" in result.output and (out / "keep.txt").exists()
    result = runner.invoke(cli, ["import", str(folder), "--out", str(out), "--force"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.safetensors"]


def test_transformers_config_with_an_unsupported_activation(runner, tmp_path):
    folder = tmp_path / "hf"
    folder.mkdir()
    save_file(build_encoder(PRESETS["tiny"]).state_dict(), folder / "model.safetensors")
    tiny = PRESETS["tiny"]
    hf = {"model_type": "hubert", "hidden_act": "relu", "conv_dim": [c for c, _, _ in tiny.conv_layers],
          "conv_kernel": [k for _, k, _ in tiny.conv_layers], "conv_stride": [s for _, _, s in tiny.conv_layers],
          "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128,
          "num_conv_pos_embeddings": 16, "num_conv_pos_embedding_groups": 4}
    (folder / "config.json").write_text(json.dumps(hf))
    out = tmp_path / "out"
    fails_cleanly(runner, ["import", folder, "--out", out], out, "hidden_act 'relu' is not supported")
    hf["hidden_act"] = "gelu"
    (folder / "config.json").write_text(json.dumps(hf))
    result = runner.invoke(cli, ["import", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    # What the file leaves out takes transformers' defaults (dropouts, LayerDrop 0.1).
    assert fitedge.load(out).config == tiny.replace(activation_dropout=0.1, feature_dropout=0.0, layer_drop=0.1)
