"""Chunked self-attention and the causal positional conv (a streaming-friendly student's model): what a frame
can reach in the full-utterance forward, and the config fields through JSON (old configs without them load)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from fitedge.distill.models.config import EncoderConfig, preset
from fitedge.distill.models.encoder import Encoder, build_encoder
from fitedge.edge.stream.geometry import model_stream_frames
from fitedge.errors import ConfigError

HOP, FIELD = 320, 400  # tiny's conv front end: 20 ms frames of 25 ms
CHUNK = 16  # tiny-stream's attention chunk, in frames


def encode(encoder: Encoder, wav: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return encoder(torch.from_numpy(wav)[None]).last_hidden_state[0].numpy()


@pytest.fixture(scope="module")
def wav() -> np.ndarray:
    return (np.random.default_rng(0).standard_normal(3 * 16000) * 0.1).astype(np.float32)


def models() -> dict[str, Encoder]:
    """tiny-stream, and the same weights without the mask (and with a centred positional conv)."""
    torch.manual_seed(0)
    masked = build_encoder(preset("tiny-stream")).for_inference()
    unmasked = build_encoder(preset("tiny-edge")).for_inference()
    unmasked.load_state_dict(masked.state_dict())
    return {"masked": masked, "unmasked": unmasked}


def test_no_frame_sees_past_the_end_of_its_chunk(wav):
    chunk = 4  # frames 64..79; audio from the first sample no frame of it touches is replaced
    cut = (chunk + 1) * CHUNK * HOP + (FIELD - HOP)
    changed = wav.copy()
    changed[cut:] = np.random.default_rng(1).standard_normal(len(wav) - cut) * 0.1
    for name, encoder in models().items():
        before, after = encode(encoder, wav), encode(encoder, changed)
        same = np.abs(before - after).max(axis=1) < 1e-5
        if name == "masked":
            assert same[: (chunk + 1) * CHUNK].all() and not same[(chunk + 1) * CHUNK:].any()
        else:  # full attention: every frame sees the change
            assert not same.any()


def test_no_frame_sees_before_the_reach_the_stream_setting_gives(wav):
    _, reach, _ = model_stream_frames(preset("tiny-stream"))
    chunk = 4
    cut = (chunk * CHUNK - reach) * HOP  # the first sample of the earliest frame chunk 4 may depend on
    changed = wav.copy()
    changed[:cut] = np.random.default_rng(2).standard_normal(cut) * 0.1
    for name, encoder in models().items():
        before, after = encode(encoder, wav), encode(encoder, changed)
        same = np.abs(before - after).max(axis=1) < 1e-5
        assert same[chunk * CHUNK:].all() if name == "masked" else not same.any()


def test_the_stream_setting_follows_depth_chunk_left_context_and_the_positional_conv():
    tiny = preset("tiny-stream")  # 2 layers, chunk 16, left 16, causal kernel 16
    assert model_stream_frames(tiny) == (16, 48, 0)  # 2 x 16 back, + 15 for the conv: 3 whole chunks
    assert model_stream_frames(tiny.replace(layers=1)) == (16, 32, 0)
    assert model_stream_frames(tiny.replace(pos_conv_causal=False)) == (16, 48, 7)  # 8 back, 7 ahead
    assert model_stream_frames(tiny.replace(attention_left_frames=0)) == (16, 16, 0)
    assert model_stream_frames(preset("tiny-edge")) is None
    # fithubert-stream: 12 layers x 8 frames back, the 127-frame conv = 64 frames of 40 ms
    assert model_stream_frames(preset("fithubert-stream")) == (8, 160, 0)


def test_the_fields_go_through_json_and_old_configs_load_without_them(tmp_path):
    config = preset("tiny-stream")
    config.save(tmp_path / "config.json")
    assert EncoderConfig.load(tmp_path / "config.json") == config
    old = preset("tiny").to_dict()
    for name in ("pos_conv_causal", "attention_chunk_frames", "attention_left_frames"):
        del old[name]
    (tmp_path / "old.json").write_text(json.dumps(old))
    loaded = EncoderConfig.load(tmp_path / "old.json")
    assert loaded == preset("tiny") and loaded.attention_chunk_frames == 0 and not loaded.pos_conv_causal


def test_a_saved_streaming_student_loads_with_its_mask(tmp_path, wav):
    masked = models()["masked"]
    loaded = Encoder.from_pretrained(masked.save_pretrained(tmp_path / "student")).for_inference()
    assert loaded.config == masked.config
    np.testing.assert_array_equal(encode(loaded, wav[:16000]), encode(masked, wav[:16000]))


@pytest.mark.parametrize("changes, message", [({"attention_chunk_frames": -1}, "must be >= 0"),
                                              ({"attention_left_frames": 8}, "needs attention_chunk_frames")])
def test_bad_fields_are_one_line_errors(changes, message):
    with pytest.raises(ConfigError, match=message) as error:
        preset("tiny").replace(**changes)
    assert "\n" not in str(error.value)
