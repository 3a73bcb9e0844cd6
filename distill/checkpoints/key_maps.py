"""Key layouts of the checkpoints users bring, and the explicit tables that rename them to fitedge's.

fitedge's parameter names are transformers' ``HubertModel`` names, with the positional conv's weight norm
in the ``parametrizations.weight.original0/1`` style. fairseq (also the official FitHuBERT student) and
torchaudio name the same tensors differently; each layout has one ordered table of ``(regex, replacement)``
rules. Tensors that are not part of the backbone (pre-training or fine-tuning heads) are kept as *heads*
under their original names; tensors that only matter while pre-training (mask embeddings) are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from torch import Tensor

from fitedge.errors import CheckpointError

Rules = tuple[tuple[str, str], ...]

_LAYER = r"encoder\.layers\.(\d+)\."

# fairseq ``HubertModel``/``Wav2Vec2Model``: conv block = Sequential(conv, dropout, norm, GELU), where the
# norm is a GroupNorm (index 2) or Sequential(TransposeLast, LayerNorm, TransposeLast) (index 2.1).
FAIRSEQ_RULES: Rules = (
    (r"^feature_extractor\.conv_layers\.(\d+)\.0\.", r"feature_extractor.conv_layers.\1.conv."),
    (r"^feature_extractor\.conv_layers\.(\d+)\.2\.1\.", r"feature_extractor.conv_layers.\1.layer_norm."),
    (r"^feature_extractor\.conv_layers\.(\d+)\.2\.", r"feature_extractor.conv_layers.\1.layer_norm."),
    (r"^layer_norm\.", "feature_projection.layer_norm."),
    (r"^post_extract_proj\.", "feature_projection.projection."),
    (r"^encoder\.pos_conv\.0\.", "encoder.pos_conv_embed.conv."),
    (rf"^{_LAYER}self_attn_layer_norm\.", r"encoder.layers.\1.layer_norm."),
    (rf"^{_LAYER}self_attn\.", r"encoder.layers.\1.attention."),
    (rf"^{_LAYER}fc1\.", r"encoder.layers.\1.feed_forward.intermediate_dense."),
    (rf"^{_LAYER}fc2\.", r"encoder.layers.\1.feed_forward.output_dense."),
)
# fairseq pre-training heads (HuBERT's label projection, wav2vec2's quantizer) and a fine-tuned CTC head.
FAIRSEQ_HEADS = (r"^final_proj\.", r"^label_embs_concat$", r"^quantizer\.", r"^project_q\.", r"^proj\.")
FAIRSEQ_DROPPED = (r"^mask_emb$",)

# torchaudio ``Wav2Vec2Model``: projection and transformer live under ``encoder.``.
TORCHAUDIO_RULES: Rules = (
    (r"^encoder\.feature_projection\.", "feature_projection."),
    (r"^encoder\.transformer\.", "encoder."),
)
TORCHAUDIO_HEADS = (r"^aux\.", r"^logit_generator\.")
TORCHAUDIO_DROPPED = (r"^mask_generator\.",)

# transformers: the backbone's own keys need no renaming; ``masked_spec_embed`` only serves SpecAugment.
HF_DROPPED = (r"^masked_spec_embed$",)

# Both weight-norm styles (``torch.nn.utils.weight_norm`` and the parametrisation) map to the latter.
WEIGHT_NORM_RULES: Rules = (
    (r"^encoder\.pos_conv_embed\.conv\.weight_g$", "encoder.pos_conv_embed.conv.parametrizations.weight.original0"),
    (r"^encoder\.pos_conv_embed\.conv\.weight_v$", "encoder.pos_conv_embed.conv.parametrizations.weight.original1"),
)

# Official FitHuBERT: the TR conv is ``encoder.layers.0`` and transformer layer k is ``encoder.layers.k``.
FITHUBERT_TR = "encoder.layers.0."
FITHUBERT_HEADS = (r"^proj_head\.", r"^upsampler\.")


def rename(state: dict[str, Tensor], rules: Rules) -> dict[str, Tensor]:
    """Apply the first matching rule of ``rules`` to every key (unmatched keys are kept)."""
    compiled = [(re.compile(p), r) for p, r in rules]
    out = {}
    for key, value in state.items():
        for pattern, replacement in compiled:
            new, hits = pattern.subn(replacement, key, count=1)
            if hits:
                key = new
                break
        out[key] = value
    return out


def split_off(state: dict[str, Tensor], patterns: Iterable[str]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """``(kept, matched)``: the entries whose key matches none / any of ``patterns``."""
    compiled = [re.compile(p) for p in patterns]
    kept, matched = {}, {}
    for key, value in state.items():
        (matched if any(p.search(key) for p in compiled) else kept)[key] = value
    return kept, matched


def strip_prefix(state: dict[str, Tensor], prefix: str) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """``(inside, outside)``: the keys under ``prefix`` (prefix removed) and all the others, unchanged."""
    inside = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    outside = {k: v for k, v in state.items() if not k.startswith(prefix)}
    return inside, outside


def shift_fithubert_layers(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Official FitHuBERT student keys (already fairseq-renamed) to fitedge: TR conv out, layers k to k-1."""
    out = {}
    for key, value in state.items():
        if key.startswith(FITHUBERT_TR) and key.count(".") == 3:  # encoder.layers.0.{weight,bias}: the TR conv
            key = "encoder.time_reduction.conv." + key[len(FITHUBERT_TR):]
        else:
            found = re.match(r"^encoder\.layers\.(\d+)\.(.*)$", key)
            if found:
                key = f"encoder.layers.{int(found.group(1)) - 1}.{found.group(2)}"
        out[key] = value
    return out


def key_layout(keys: Iterable[str]) -> str | None:
    """Which naming a state dict uses: ``fairseq``, ``torchaudio``, ``transformers``, or ``None`` (not this family)."""
    keys = list(keys)
    if not any(k.startswith("feature_extractor.conv_layers.0.") for k in keys):
        return None
    if any(k.startswith(("post_extract_proj.", "encoder.pos_conv.0.")) for k in keys):
        return "fairseq"
    if any(k.startswith(("encoder.transformer.", "encoder.feature_projection.")) for k in keys):
        return "torchaudio"
    if any(k.startswith(("feature_projection.", "encoder.pos_conv_embed.")) for k in keys):
        return "transformers"
    return None


def to_fitedge_keys(state: dict[str, Tensor], layout: str, source: str) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Rename a backbone state dict of ``layout`` to fitedge keys; returns ``(backbone, heads)``."""
    if layout == "fairseq":
        rules, heads_at, dropped = FAIRSEQ_RULES, FAIRSEQ_HEADS, FAIRSEQ_DROPPED
    elif layout == "torchaudio":
        rules, heads_at, dropped = TORCHAUDIO_RULES, TORCHAUDIO_HEADS, TORCHAUDIO_DROPPED
    elif layout == "transformers":
        rules, heads_at, dropped = (), (), HF_DROPPED
    else:
        raise CheckpointError(f"{source}: not a HuBERT/wav2vec2 checkpoint (unrecognised key layout)")
    state, _ = split_off(state, dropped)
    backbone, heads = split_off(state, heads_at)
    return rename(rename(backbone, rules), WEIGHT_NORM_RULES), heads


def require_layout(state: dict[str, Tensor], source: str) -> str:
    """The layout of ``state``, or a :class:`CheckpointError` saying it is another architecture."""
    layout = key_layout(state)
    if layout is None:
        sample = ", ".join(list(state)[:3]) or "no tensors"
        raise CheckpointError(f"{source}: not a HuBERT/wav2vec2 checkpoint (keys like {sample})")
    return layout
