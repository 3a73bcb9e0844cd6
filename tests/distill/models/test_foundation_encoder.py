"""The encoder family: equal to transformers' HubertModel/Wav2Vec2Model, padding-consistent, export-clean."""

from __future__ import annotations

import pytest
import torch

import fitedge
from fitedge.audio import SAMPLE_RATE
from fitedge.distill.models.config import PRESETS
from fitedge.distill.models.encoder import build_encoder
from tests.helpers.foundation_models import HF_CONFIGS, hf_model

TOL = 1e-4


@pytest.mark.parametrize("name", sorted(HF_CONFIGS))
def test_imported_transformers_model_matches_every_hidden_state(name, tmp_path):
    reference = hf_model(name, seed=1)
    reference.save_pretrained(tmp_path)
    encoder = fitedge.load(tmp_path).for_inference()
    torch.manual_seed(2)
    wav = torch.randn(2, 3200)
    lengths = torch.tensor([3200, 2300])
    mask = (torch.arange(3200)[None, :] < lengths[:, None]).long()
    with torch.no_grad():
        ref = reference(wav, output_hidden_states=True)
        out = encoder(wav)
        ref_padded = reference(wav, attention_mask=mask, output_hidden_states=True)
        out_padded = encoder(wav, lengths)
    assert len(out.hidden_states) == len(ref.hidden_states) == 3
    for mine, theirs in zip(out.hidden_states, ref.hidden_states, strict=True):
        assert mine.shape == theirs.shape
        assert (mine - theirs).abs().max().item() <= TOL
    assert (out.last_hidden_state - ref.last_hidden_state).abs().max().item() <= TOL
    # With padding, only the real frames are defined (transformers leaves padded frames unspecified).
    valid = int(out_padded.lengths[1])
    assert 0 < valid < out_padded.last_hidden_state.shape[1]
    for mine, theirs in zip(out_padded.hidden_states, ref_padded.hidden_states, strict=True):
        assert (mine[0] - theirs[0]).abs().max().item() <= TOL
        assert (mine[1, :valid] - theirs[1, :valid]).abs().max().item() <= TOL


@pytest.mark.parametrize("time_reduction", [None, "conv1d"])
def test_padded_batch_equals_each_utterance_alone(time_reduction):
    # LayerNorm extractor: GroupNorm over time would (by design, as in fairseq) see the padding.
    config = PRESETS["tiny"].replace(extractor_mode="layer_norm", layer_norm_first=True, time_reduction=time_reduction)
    torch.manual_seed(0)
    encoder = build_encoder(config).for_inference()
    long, short = torch.randn(4000), torch.randn(2500)
    batch = torch.stack([long, torch.cat([short, torch.zeros(1500)])])
    with torch.no_grad():
        out = encoder(batch, torch.tensor([4000, 2500]))
        alone = encoder(short[None])
    frames = alone.last_hidden_state.shape[1]
    assert frames == config.num_frames(2500)
    assert out.lengths.tolist() == [config.num_frames(4000), frames]
    assert (out.last_hidden_state[1, :frames] - alone.last_hidden_state[0]).abs().max().item() <= TOL
    with torch.no_grad():
        first_alone = encoder(long[None]).last_hidden_state[0]
    assert (out.last_hidden_state[0] - first_alone).abs().max().item() <= TOL


@pytest.mark.parametrize("kind", ["conv1d", "avgpool", "concat"])
def test_time_reduction_halves_the_frames(kind):
    plain = PRESETS["tiny"]
    config = plain.replace(time_reduction=kind, time_reduction_factor=2)
    encoder = build_encoder(config).eval()
    samples = SAMPLE_RATE
    with torch.no_grad():
        out = encoder(torch.randn(1, samples), torch.tensor([samples]))
    extractor_frames = plain.num_frames(samples)
    assert out.last_hidden_state.shape == (1, extractor_frames // 2, config.dim)
    assert config.num_frames(samples) == extractor_frames // 2 and out.lengths.tolist() == [extractor_frames // 2]
    # hidden_states[0] is the input to the first layer: already reduced.
    assert all(h.shape[1] == extractor_frames // 2 for h in out.hidden_states)
    assert config.frame_hop_ms == 2 * plain.frame_hop_ms


def test_for_inference_folds_weight_norm_and_keeps_outputs():
    torch.manual_seed(0)
    encoder = build_encoder(PRESETS["tiny"]).eval()
    wav = torch.randn(1, 4000)
    with torch.no_grad():
        before = encoder(wav).last_hidden_state
    params_before = encoder.num_parameters()
    encoder.for_inference()
    with torch.no_grad():
        after = encoder(wav).last_hidden_state
    assert not encoder.weight_normed and not encoder.training
    assert "encoder.pos_conv_embed.conv.weight" in encoder.state_dict()
    assert params_before - encoder.num_parameters() == PRESETS["tiny"].pos_conv_kernel  # the g vector goes
    assert (before - after).abs().max().item() <= 1e-5


@pytest.mark.parametrize("time_reduction", [None, "conv1d"])
def test_torch_export_of_the_inference_graph(time_reduction):
    torch.manual_seed(0)
    encoder = build_encoder(PRESETS["tiny"].replace(time_reduction=time_reduction)).for_inference()
    wav = torch.randn(1, 4000)
    program = torch.export.export(encoder, (wav,))
    with torch.no_grad():
        expected = encoder(wav).last_hidden_state
    got = program.module()(wav).last_hidden_state
    assert got.shape == expected.shape
    assert (got - expected).abs().max().item() <= 1e-5
    ops = {str(n.target) for n in program.graph.nodes if n.op == "call_function"}
    assert not any("weight_norm" in op or "bernoulli" in op or "rand" in op for op in ops)


def test_presets_are_reproducible_and_leave_the_global_rng_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    first, again, other = fitedge.load("tiny"), fitedge.load("tiny"), fitedge.load("tiny", seed=1)
    assert torch.equal(torch.rand(1), expected_next)
    for name, tensor in first.state_dict().items():
        assert torch.equal(tensor, again.state_dict()[name]), name
    assert not torch.equal(first.state_dict()["feature_projection.projection.weight"],
                           other.state_dict()["feature_projection.projection.weight"])
    assert first.meta == {"source": "preset:tiny", "trained": False, "seed": 0}
