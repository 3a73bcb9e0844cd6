"""Hint heads: the student-side projections that FitHuBERT's and DistilHuBERT's losses compare to the teacher.

The same head, rebuilt from a checkpoint's tensors, is what ``fitedge export --outputs final_proj`` appends:
the official FitHuBERT checkpoint calls its last one ``final_proj``.

FitHuBERT (fithubert.md) puts one head on every student layer: ``ConvTranspose1d(d, d, k=f, s=f)`` undoes the
student's time reduction (``f`` = 2: 40 ms back to 20 ms), then ``Linear(d -> teacher_dim)``. Key names follow
the official checkpoint (``proj_head.{i}.upsampler.*``, ``proj_head.{i}.lin_proj.*``) so heads trained here
and there are interchangeable. DistilHuBERT's three prediction heads are the same heads, all reading the
student's last layer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from torch import Tensor, nn

from fitedge.distill.models.config import EncoderConfig
from fitedge.distill.models.encoder import Encoder
from fitedge.errors import CheckpointKeyMismatch, ConfigError, one_line


class HintHead(nn.Module):
    """``(batch, frames, student_dim)`` student frames to ``(batch, frames * f, teacher_dim)`` predictions."""

    def __init__(self, student_dim: int, teacher_dim: int, factor: int, upsampler_bias: bool = True,
                 bias: bool = True) -> None:
        super().__init__()
        # No time reduction, nothing to undo: the head is the projection alone.
        self.upsampler = nn.ConvTranspose1d(student_dim, student_dim, factor, stride=factor, bias=upsampler_bias) \
            if factor > 1 else None
        self.lin_proj = nn.Linear(student_dim, teacher_dim, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        if self.upsampler is not None:
            x = self.upsampler(x.transpose(1, 2)).transpose(1, 2)
        return self.lin_proj(x)


class HintHeads(nn.ModuleList):
    """One :class:`HintHead` per entry of a layer map; head ``i`` reads student layer ``layer_map[i][0]``.

    ``layer_map``: ``(student layer, teacher layer)`` pairs (:mod:`fitedge.distill.train.layer_map`).
    """

    def __init__(self, layer_map: Sequence[tuple[int, int]], student_dim: int, teacher_dim: int, factor: int) -> None:
        super().__init__(HintHead(student_dim, teacher_dim, factor) for _ in layer_map)
        self.sources = [student for student, _ in layer_map]

    def forward(self, hidden_states: Sequence[Tensor]) -> list[Tensor]:
        return [head(hidden_states[src]) for head, src in zip(self, self.sources)]


class StudentWithHeads(nn.Module):
    """What distillation trains (and DDP wraps): the student encoder and its hint heads (``proj_head``)."""

    def __init__(self, student: Encoder, proj_head: HintHeads) -> None:
        super().__init__()
        self.student = student
        self.proj_head = proj_head
        cfg = student.config
        self.factor = cfg.reduction

    def forward(self, wav: Tensor, lengths: Tensor | None) -> tuple[list[Tensor], Tensor | None]:
        """Head predictions at the teacher's frame rate and their valid lengths ``(batch,)`` (or ``None``)."""
        out = self.student(wav, lengths)
        predictions = self.proj_head(out.hidden_states)
        return predictions, None if out.lengths is None else out.lengths * self.factor


def build_heads(student: Encoder, teacher_dim: int, layer_map: Sequence[tuple[int, int]]) -> HintHeads:
    cfg = student.config
    return HintHeads(layer_map, cfg.dim, teacher_dim, cfg.reduction)


def build_final_proj(heads: dict[str, Tensor], config: EncoderConfig, source: str) -> HintHead:
    """A checkpoint's prediction head (``heads.safetensors``), weights loaded strictly.

    Accepted key layouts: ``final_proj.{upsampler,lin_proj}.*``, ``final_proj.{weight,bias}`` (a bare Linear)
    and the last ``proj_head.{i}.*``.
    """
    prefix = _head_prefix(heads, source)
    tensors = {k[len(prefix):]: v for k, v in heads.items() if k.startswith(prefix)}
    if "weight" in tensors:  # a bare Linear
        tensors = {f"lin_proj.{k}": v for k, v in tensors.items()}
    if "lin_proj.weight" not in tensors:
        raise CheckpointKeyMismatch(f"{source}: head {prefix!r} has no lin_proj weight ({', '.join(sorted(tensors))})")
    out_dim, dim = tensors["lin_proj.weight"].shape
    if dim != config.dim:
        raise CheckpointKeyMismatch(f"{source}: final_proj takes {dim} features, the encoder gives {config.dim}")
    factor = tensors["upsampler.weight"].shape[-1] if "upsampler.weight" in tensors else 1
    head = HintHead(dim, out_dim, factor, "upsampler.bias" in tensors, "lin_proj.bias" in tensors)
    try:
        head.load_state_dict(tensors, strict=True)
    except RuntimeError as e:
        raise CheckpointKeyMismatch(f"{source}: final_proj head does not fit ({one_line(e)})") from None
    return head.eval()


def _head_prefix(heads: dict[str, Tensor], source: str) -> str:
    if any(k.startswith("final_proj.") for k in heads):
        return "final_proj."
    indices = sorted({int(m.group(1)) for k in heads if (m := re.match(r"proj_head\.(\d+)\.", k))})
    if indices:
        return f"proj_head.{indices[-1]}."
    raise ConfigError(f"--outputs final_proj: {source} has no final_proj head (a FitHuBERT distillation "
                      f"checkpoint has one; presets and imported teachers do not)")
