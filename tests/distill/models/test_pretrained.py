"""``Encoder.save_pretrained`` / ``Encoder.from_pretrained``: a fitedge folder round-trips, by path and by
Hugging Face id (a fake local hub cache read with ``HF_HUB_OFFLINE=1`` in a child process, as in
``test_hub_ids``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import fitedge
from fitedge.distill.models.encoder import Encoder
from fitedge.errors import CheckpointError

WAV = torch.randn(2, 4000, generator=torch.Generator().manual_seed(2))
LENGTHS = torch.tensor([4000, 3000])


def outputs(encoder: Encoder) -> tuple[torch.Tensor, ...]:
    with torch.no_grad():
        return encoder.eval()(WAV, LENGTHS).hidden_states


def test_save_then_load_gives_identical_outputs(tmp_path: Path) -> None:
    encoder = fitedge.load("tiny", seed=3)
    written = encoder.save_pretrained(tmp_path / "enc")
    assert sorted(p.name for p in written.iterdir()) == ["config.json", "model.safetensors"]
    again = Encoder.from_pretrained(tmp_path / "enc")
    assert again.config == encoder.config
    assert all(torch.equal(a, b) for a, b in zip(outputs(encoder), outputs(again), strict=True))
    # An untrained preset stays flagged untrained, so that an export of the folder says so.
    assert again.meta["trained"] is False and again.meta["source"] == str(tmp_path / "enc")
    assert fitedge.load(tmp_path / "enc").meta["trained"] is False


def test_a_folded_encoder_round_trips_too(tmp_path: Path) -> None:
    encoder = fitedge.load("tiny").for_inference()
    encoder.save_pretrained(str(tmp_path / "enc"))
    again = Encoder.from_pretrained(str(tmp_path / "enc"))
    assert not again.weight_normed
    assert all(torch.equal(a, b) for a, b in zip(outputs(encoder), outputs(again), strict=True))


def test_other_formats_are_pointed_to_fitedge_load(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "hubert"}))
    with pytest.raises(CheckpointError, match="fitedge.load reads the other formats"):
        Encoder.from_pretrained(tmp_path)


def test_from_pretrained_resolves_a_hub_id_through_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    repo = cache / "models--acme--fitedge-tiny"
    commit = "c" * 40
    encoder = fitedge.load("tiny", seed=5)
    encoder.save_pretrained(repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    reference = torch.cat([h.flatten() for h in outputs(encoder)])
    torch.save({"wav": WAV, "lengths": LENGTHS}, tmp_path / "input.pt")
    # huggingface_hub reads HF_HUB_OFFLINE/HF_HUB_CACHE when imported: a child process sees them fresh.
    script = (
        "import sys, torch\n"
        "from fitedge.distill.models.encoder import Encoder\n"
        "enc = Encoder.from_pretrained('acme/fitedge-tiny').eval()\n"
        "x = torch.load(sys.argv[1])\n"
        "with torch.no_grad():\n"
        "    h = enc(x['wav'], x['lengths']).hidden_states\n"
        "torch.save({'outputs': torch.cat([t.flatten() for t in h]), 'weights': enc.state_dict()}, sys.argv[2])\n"
    )
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "input.pt"), str(tmp_path / "out.pt")],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    loaded = torch.load(tmp_path / "out.pt")
    weights = encoder.state_dict()
    assert loaded["weights"].keys() == weights.keys()
    assert all(torch.equal(loaded["weights"][k], weights[k]) for k in weights)
    # The same weights; the outputs only to float rounding, since the child may use another thread count.
    torch.testing.assert_close(loaded["outputs"], reference, rtol=1e-5, atol=1e-5)
