"""A FitHuBERT checkpoint's ``final_proj`` prediction head, rebuilt from its tensors for ``--outputs final_proj``.

The hint head is ``ConvTranspose1d(dim, dim, k, stride=k)`` (undoing the time reduction back to 20 ms frames)
then ``Linear(dim, 768)``; a model without time reduction has the Linear only. Accepted key layouts:
``final_proj.{upsampler,lin_proj}.*``, ``final_proj.{weight,bias}`` and the last ``proj_head.{i}.*``.
"""

from __future__ import annotations

import re

from torch import Tensor, nn

from fitedge.distill.models.config import EncoderConfig
from fitedge.errors import CheckpointKeyMismatch, ConfigError


class FinalProjection(nn.Module):
    """``(batch, frames, dim)`` to ``(batch, frames * k, out_dim)``."""

    def __init__(self, upsampler: nn.ConvTranspose1d | None, lin_proj: nn.Linear) -> None:
        super().__init__()
        self.upsampler = upsampler
        self.lin_proj = lin_proj

    def forward(self, x: Tensor) -> Tensor:
        if self.upsampler is not None:
            x = self.upsampler(x.transpose(1, 2)).transpose(1, 2)
        return self.lin_proj(x)


def build_final_proj(heads: dict[str, Tensor], config: EncoderConfig, source: str) -> FinalProjection:
    """The head stored in ``heads`` (a checkpoint's ``heads.safetensors``), weights loaded strictly."""
    prefix = _head_prefix(heads, source)
    tensors = {k[len(prefix):]: v for k, v in heads.items() if k.startswith(prefix)}
    if "weight" in tensors:  # a bare Linear
        tensors = {f"lin_proj.{k}": v for k, v in tensors.items()}
    if "lin_proj.weight" not in tensors:
        raise CheckpointKeyMismatch(f"{source}: head {prefix!r} has no lin_proj weight ({', '.join(sorted(tensors))})")
    out_dim, dim = tensors["lin_proj.weight"].shape
    if dim != config.dim:
        raise CheckpointKeyMismatch(f"{source}: final_proj takes {dim} features, the encoder gives {config.dim}")
    upsampler = None
    if "upsampler.weight" in tensors:
        kernel = tensors["upsampler.weight"].shape[-1]
        upsampler = nn.ConvTranspose1d(dim, dim, kernel, stride=kernel, bias="upsampler.bias" in tensors)
    head = FinalProjection(upsampler, nn.Linear(dim, out_dim, bias="lin_proj.bias" in tensors))
    try:
        head.load_state_dict(tensors, strict=True)
    except RuntimeError as e:
        raise CheckpointKeyMismatch(f"{source}: final_proj head does not fit ({str(e).splitlines()[0]})") from None
    return head.eval()


def _head_prefix(heads: dict[str, Tensor], source: str) -> str:
    if any(k.startswith("final_proj.") for k in heads):
        return "final_proj."
    indices = sorted({int(m.group(1)) for k in heads if (m := re.match(r"proj_head\.(\d+)\.", k))})
    if indices:
        return f"proj_head.{indices[-1]}."
    raise ConfigError(f"--outputs final_proj: {source} has no final_proj head (a FitHuBERT distillation "
                      f"checkpoint has one; presets and imported teachers do not)")



