"""Tiny random transformers models and the other key layouts (fairseq, torchaudio, official FitHuBERT).

The fairseq, torchaudio and official-FitHuBERT layouts are built by renaming a fitedge state dict
with the tables of ``fithubert.md``, written out here independently of ``fitedge.distill.checkpoints.key_maps``
(the inverse direction), so that a wrong rule in the importer cannot cancel itself out.
"""

from __future__ import annotations

import re

import torch

# Small enough that a forward pass takes milliseconds; two conv specs, post-LN and stable-LN.
HF_CONFIGS = {
    "hubert-postln": dict(
        model="hubert", conv_dim=(16, 16, 24), conv_kernel=(10, 3, 2), conv_stride=(5, 2, 2), conv_bias=False,
        feat_extract_norm="group", do_stable_layer_norm=False,
    ),
    "hubert-stableln": dict(
        model="hubert", conv_dim=(16, 24), conv_kernel=(10, 3), conv_stride=(5, 2), conv_bias=True,
        feat_extract_norm="layer", do_stable_layer_norm=True,
    ),
    "wav2vec2-postln": dict(
        model="wav2vec2", conv_dim=(16, 16, 16, 16), conv_kernel=(10, 3, 3, 2), conv_stride=(5, 2, 2, 2),
        conv_bias=False, feat_extract_norm="group", do_stable_layer_norm=False,
    ),
    "wav2vec2-stableln": dict(
        model="wav2vec2", conv_dim=(16, 16), conv_kernel=(10, 3), conv_stride=(5, 2), conv_bias=True,
        feat_extract_norm="layer", do_stable_layer_norm=True,
    ),
}


def hf_model(name: str, seed: int = 0, ctc: bool = False, hidden_size: int = 32, heads: int = 4):
    """A random transformers ``HubertModel``/``Wav2Vec2Model`` (or ``...ForCTC``) in eval mode.

    The default ``mask_time_prob`` keeps SpecAugment's ``masked_spec_embed`` in the weights, as in real files.
    """
    import transformers

    spec = dict(HF_CONFIGS[name])
    kind = spec.pop("model")
    config_cls = transformers.HubertConfig if kind == "hubert" else transformers.Wav2Vec2Config
    config = config_cls(
        hidden_size=hidden_size, num_hidden_layers=2, num_attention_heads=heads, intermediate_size=48,
        num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=4, vocab_size=10,
        hidden_dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, feat_proj_dropout=0.0,
        layerdrop=0.0, **spec,
    )
    torch.manual_seed(seed)
    if ctc:
        cls = transformers.HubertForCTC if kind == "hubert" else transformers.Wav2Vec2ForCTC
    else:
        cls = transformers.HubertModel if kind == "hubert" else transformers.Wav2Vec2Model
    model = cls(config).eval()
    _randomize_norms(model)
    return model


def _randomize_norms(model: torch.nn.Module) -> None:
    """LayerNorm/GroupNorm start as identity; random affine parameters make the comparison meaningful."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm | torch.nn.GroupNorm):
                module.weight.normal_(1.0, 0.2)
                module.bias.normal_(0.0, 0.2)


def legacy_weight_norm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The ``weight_g``/``weight_v`` key style of ``torch.nn.utils.weight_norm`` (older checkpoints)."""
    return {k.replace("parametrizations.weight.original0", "weight_g").replace("parametrizations.weight.original1",
                                                                               "weight_v"): v
            for k, v in state.items()}


_FAIRSEQ = [
    (r"^feature_extractor\.conv_layers\.(\d+)\.conv\.", r"feature_extractor.conv_layers.\1.0."),
    (r"^feature_projection\.layer_norm\.", "layer_norm."),
    (r"^feature_projection\.projection\.", "post_extract_proj."),
    (r"^encoder\.pos_conv_embed\.conv\.", "encoder.pos_conv.0."),
    (r"^encoder\.layers\.(\d+)\.attention\.", r"encoder.layers.\1.self_attn."),
    (r"^encoder\.layers\.(\d+)\.layer_norm\.", r"encoder.layers.\1.self_attn_layer_norm."),
    (r"^encoder\.layers\.(\d+)\.feed_forward\.intermediate_dense\.", r"encoder.layers.\1.fc1."),
    (r"^encoder\.layers\.(\d+)\.feed_forward\.output_dense\.", r"encoder.layers.\1.fc2."),
]


def to_fairseq(state: dict[str, torch.Tensor], layer_norm_extractor: bool) -> dict[str, torch.Tensor]:
    """fitedge/transformers keys to fairseq's (``weight_g``/``weight_v`` weight norm, as fairseq writes it)."""
    # fairseq's conv block is Sequential(conv, dropout, norm, GELU); a LayerNorm norm is itself wrapped in
    # Sequential(TransposeLast, LayerNorm, TransposeLast).
    norm = r"feature_extractor.conv_layers.\1.2.1." if layer_norm_extractor else r"feature_extractor.conv_layers.\1.2."
    rules = [(r"^feature_extractor\.conv_layers\.(\d+)\.layer_norm\.", norm), *_FAIRSEQ]
    out = {}
    for key, value in legacy_weight_norm(state).items():
        for pattern, replacement in rules:
            key, hits = re.subn(pattern, replacement, key)
            if hits:
                break
        out[key] = value
    return out


def to_torchaudio(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """fitedge/transformers keys to torchaudio's ``Wav2Vec2Model`` keys."""
    out = {}
    for key, value in legacy_weight_norm(state).items():
        if key.startswith("feature_projection."):
            key = "encoder." + key
        elif key.startswith("encoder."):
            key = "encoder.transformer." + key[len("encoder."):]
        out[key] = value
    return out


def to_fithubert_student(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A fitedge state dict with a conv1d TR to the official FitHuBERT student's keys (fairseq + TR at layer 0)."""
    out = {}
    for key, value in to_fairseq(state, layer_norm_extractor=False).items():
        if key.startswith("encoder.time_reduction.conv."):
            key = "encoder.layers.0." + key.rsplit(".", 1)[1]
        elif m := re.match(r"^encoder\.layers\.(\d+)\.(.*)$", key):
            key = f"encoder.layers.{int(m.group(1)) + 1}.{m.group(2)}"
        out[key] = value
    return out
