"""A streaming-friendly student (chunked attention): ``fitedge.stream`` defaults to the setting it was built for,
and streamed at it reproduces the model's own full-utterance output, eagerly and from a dynamic .onnx; the same
weights without the mask do not."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import fitedge
from fitedge.bench.host.streaming import frame_cosines
from fitedge.distill.models.config import preset
from fitedge.distill.models.encoder import build_encoder
from fitedge.edge.stream.source import bundle_default_ms
from fitedge.edge.stream.stream import stream_all
from tests.helpers.speech import espeak


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return espeak("open the window and close the door please", "en-us")[: 3 * 16000]


def full_utterance(encoder, wav: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return encoder(torch.from_numpy(wav)[None]).last_hidden_state[0].numpy()


def test_the_default_setting_of_a_chunked_model_is_its_own():
    assert bundle_default_ms("tiny-stream") == (320.0, 960.0, 0.0)  # chunk 16, reach 48 frames, no look-ahead
    assert bundle_default_ms("tiny-edge") == (640.0, 1280.0, 320.0)  # full attention: the plain defaults
    assert fitedge.stream("tiny-stream").geometry.to_manifest()["chunk_frames"] == 16


def test_a_checkpoint_folder_defaults_to_its_own_setting(tmp_path):
    folder = build_encoder(preset("tiny-stream").replace(attention_left_frames=32)).save_pretrained(tmp_path / "s")
    assert bundle_default_ms(folder) == (320.0, 1600.0, 0.0)  # 2 x 32 back + 15 = 79 frames: 5 whole chunks


@pytest.mark.parametrize("trim_edges", [True, False])
def test_streamed_at_its_own_setting_it_matches_its_full_utterance_and_without_the_mask_it_does_not(speech,
                                                                                                    trim_edges):
    """Zero-padded windows too: a chunked model's stream starts its first windows at the audio's first sample."""
    torch.manual_seed(0)
    masked = build_encoder(preset("tiny-stream")).for_inference()
    unmasked = build_encoder(preset("tiny-stream").replace(attention_chunk_frames=0, attention_left_frames=0))
    unmasked.for_inference().load_state_dict(masked.state_dict())
    worst = {}
    for name, encoder in (("masked", masked), ("unmasked", unmasked)):
        stream = fitedge.stream(encoder, chunk_ms=320, left_ms=960, right_ms=0, trim_edges=trim_edges)
        streamed = stream_all(stream, speech, feed=320)["last_hidden_state"]
        worst[name] = frame_cosines(streamed, full_utterance(encoder, speech)).min()
    assert worst["masked"] >= 0.999 and worst["unmasked"] < 0.999, worst


def test_a_masked_model_exports_to_a_dynamic_onnx_that_streams_as_its_full_utterance(tmp_path, speech):
    out = tmp_path / "bundle"
    fitedge.export("tiny-stream", out, targets=("onnx",), precisions=("fp32",), seconds=1.0, timing_runs=0,
                   dynamic=(1600, 64000))
    torch.manual_seed(0)  # the export's preset weights: seed 0, as build_preset draws them
    from fitedge.distill.checkpoints.source import build_preset

    full = full_utterance(build_preset("tiny-stream").for_inference(), speech)
    streamed = stream_all(fitedge.stream(out / "tiny-stream_fp32.onnx"), speech, feed=320)  # zero-padded windows
    assert frame_cosines(streamed["last_hidden_state"], full).min() >= 0.999


def test_a_streaming_bundle_of_a_chunked_model_tells_the_app_to_shift_its_first_windows(tmp_path):
    from fitedge.edge.bundle.manifest import Manifest

    out = tmp_path / "bundle"
    fitedge.export("tiny-stream", out, targets=("onnx",), precisions=("fp32",), timing_runs=0, chunk_ms=320,
                   left_ms=320, right_ms=0)
    assert Manifest.read(out).streaming["shift_start"] is True  # what the Java core's LiveSession reads
    assert fitedge.stream(out).shift_start


def _int8_loss(encoder, calibration: list[np.ndarray], held_out: list[np.ndarray]) -> float:
    """Mean 1 - cosine of ``encoder``'s output in the ExecuTorch int8 recipe (run in PyTorch) against float."""
    from fitedge.distill.models.deployable import DeployableEncoder, OutputSpec
    from fitedge.edge.lower.delegable import norm_modules, xnnpack_friendly
    from fitedge.quantize.pt2e import quantize_for_executorch, run_in_eager

    friendly = xnnpack_friendly(DeployableEncoder(encoder, OutputSpec()).eval())
    int8 = run_in_eager(quantize_for_executorch(friendly, calibration, norm_modules(friendly)).module)
    with torch.no_grad():
        cosines = [torch.nn.functional.cosine_similarity(friendly(torch.from_numpy(w)[None])[0].flatten(),
                                                         torch.from_numpy(int8(w)[0]).flatten(), dim=0)
                   for w in held_out]
    return float(np.mean([1.0 - c for c in cosines]))


def test_int8_keeps_a_chunked_model_attending_as_well_as_the_same_weights_unmasked() -> None:
    """The mask is one tensor with the scores in int8: a huge masked value would round every real score to 0."""
    pytest.importorskip("executorch")
    from fitedge.quantize.calibration import builtin_speech, windows

    torch.manual_seed(0)
    masked = build_encoder(preset("tiny-stream").replace(dropout=0.0, attention_dropout=0.0)).for_inference()
    with torch.no_grad():  # peaked attention, as a trained model's: an untrained one's is nearly uniform anyway
        for layer in masked.encoder.layers:
            layer.attention.q_proj.weight.mul_(30.0)
    unmasked = build_encoder(preset("tiny-stream").replace(attention_chunk_frames=0, attention_left_frames=0))
    unmasked = unmasked.for_inference()
    unmasked.load_state_dict(masked.state_dict())
    clips = windows(builtin_speech()[:6], 16000, 6, 16000)
    losses = {name: _int8_loss(encoder, clips[:4], clips[4:])
              for name, encoder in (("masked", masked), ("unmasked", unmasked))}
    assert losses["masked"] < 1.25 * losses["unmasked"], losses


@pytest.mark.parametrize("observer", ["histogram", "minmax"])
def test_litert_static_int8_calibrates_a_chunked_model(observer: str) -> None:
    """The mask's frame arithmetic is integer: an observer on it (histogram cannot take integers) broke the export."""
    pytest.importorskip("litert_torch")
    from fitedge.distill.models.deployable import DeployableEncoder, OutputSpec
    from fitedge.quantize.calibration import builtin_speech, windows
    from fitedge.quantize.pt2e import quantize_for_litert, run_in_eager

    torch.manual_seed(0)
    model = DeployableEncoder(build_encoder(preset("tiny-stream")).for_inference(), OutputSpec()).eval()
    clips = windows(builtin_speech()[:4], 16000, 3, 16000)
    int8 = run_in_eager(quantize_for_litert(model, clips[:2], [], mode="static", method=observer).module)
    with torch.no_grad():
        reference = model(torch.from_numpy(clips[2])[None])[0].flatten()
    cosine = torch.nn.functional.cosine_similarity(reference, torch.from_numpy(int8(clips[2])[0]).flatten(), dim=0)
    assert cosine > 0.95, float(cosine)
