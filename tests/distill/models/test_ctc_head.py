"""The CTC head file: a trained probe folded into linear layers on hidden states, saved and loaded back safely."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from fitedge.bench.eval.ctc import greedy_ctc
from fitedge.bench.eval.probe import ProbeConfig, probe_head, train_probe
from fitedge.distill.models.config import preset
from fitedge.distill.models.ctc_head import BLANK_TOKEN, load_ctc_head, save_ctc_head
from fitedge.distill.models.encoder import build_encoder
from fitedge.errors import CheckpointError, ConfigError

VOCAB = ["AA", "B", "K"]


def trained_probe(layers: int, dim: int, kind: str = "linear"):
    """A probe trained briefly on random features with a per-layer offset and scale (so folding matters)."""
    rng = np.random.default_rng(0)
    features = [(rng.standard_normal((layers, 20, dim)) * 3 + 5).astype(np.float32) for _ in range(6)]
    labels = [list(rng.choice(VOCAB, 4)) for _ in features]
    return train_probe(features, labels, VOCAB, ProbeConfig(kind=kind, hidden=8, epochs=3, batch_size=2)), features


@pytest.mark.parametrize(("layer", "kind"), [("last", "linear"), (2, "mlp"), ("weighted", "linear")])
def test_round_trip_gives_the_probe_s_logits(tmp_path: Path, layer, kind: str) -> None:
    encoder = build_encoder(preset("tiny")).for_inference()
    config = encoder.config
    layers = config.layers + 1 if layer == "weighted" else 1
    probe, _ = trained_probe(layers, config.dim, kind)
    head = probe_head(probe, layer, {"trained_on": "random"})
    path = save_ctc_head(head, tmp_path / "head.safetensors")
    loaded = load_ctc_head(path)
    assert loaded.tokens == [BLANK_TOKEN, *VOCAB] and loaded.layer == layer
    assert loaded.info["trained_on"] == "random" and len(loaded.info["layer_weights"]) == layers
    loaded.check_fits(config, "head")

    with torch.inference_mode():
        out = encoder(torch.randn(1, 8000))
        hidden = {"last": (out.last_hidden_state,), "weighted": out.hidden_states}.get(layer) or \
            (out.hidden_states[layer],)
        expected = probe(torch.stack(hidden, dim=1))  # the probe's own log-probabilities
        logits = loaded(out)
    torch.testing.assert_close(logits.log_softmax(-1), expected, atol=1e-4, rtol=1e-4)
    assert greedy_ctc(logits[0].numpy(), loaded.tokens) == probe.decode([torch.stack(hidden, 1)[0].numpy()])[0]


def test_the_head_must_fit_the_model(tmp_path: Path) -> None:
    config = preset("tiny")
    probe, _ = trained_probe(1, config.dim + 1)
    with pytest.raises(ConfigError, match="takes 65 features per frame"):
        probe_head(probe, "last").check_fits(config, "head")
    probe, _ = trained_probe(1, config.dim)
    with pytest.raises(ConfigError, match=f"hidden state 99, the model has 0..{config.layers}"):
        probe_head(probe, 99).check_fits(config, "head")


def test_bad_head_files_give_one_line_errors(tmp_path: Path) -> None:
    probe, _ = trained_probe(1, 8)
    good = save_ctc_head(probe_head(probe, "last"), tmp_path / "good.safetensors")
    with pytest.raises(CheckpointError, match="no such head file"):
        load_ctc_head(tmp_path / "missing.safetensors")
    (tmp_path / "text.safetensors").write_text("not a tensor file")
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_ctc_head(tmp_path / "text.safetensors")

    from safetensors import safe_open

    with safe_open(str(good), framework="pt") as f:
        metadata, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}

    def broken(name: str, tensors: dict = tensors, **changes: str) -> Path:
        path = tmp_path / f"{name}.safetensors"
        save_file(tensors, str(path), metadata={**metadata, **changes})
        return path

    cases = [
        (broken("foreign", format="something.else"), "not a fitedge CTC head"),
        (broken("newer", version="2"), "head version 2 is not supported"),
        (broken("tokens", tokens="not json"), "bad head metadata"),
        (broken("dupes", tokens=json.dumps([BLANK_TOKEN, "AA", "AA", "K"])), "distinct"),
        (broken("blank", blank="3"), "blank must be 0"),
        (broken("layer", layer="middle"), "layer must be"),
        (broken("fewer", tokens=json.dumps([BLANK_TOKEN, "AA"])), "outputs for 2 tokens"),
        (broken("keys", tensors={"weight": tensors["net.0.weight"]}), "expected tensors net.0.weight"),
        (broken("shapes", tensors={**tensors, "net.0.bias": torch.zeros(2)}), "do not chain"),
    ]
    for path, needle in cases:
        with pytest.raises(CheckpointError, match=needle) as e:
            load_ctc_head(path)
        assert "\n" not in str(e.value)
