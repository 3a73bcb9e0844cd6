"""Hint heads: the student-side projections that FitHuBERT's and DistilHuBERT's losses compare to the teacher.

FitHuBERT (fithubert.md) puts one head on every student layer: ``ConvTranspose1d(d, d, k=f, s=f)`` undoes the
student's time reduction (``f`` = 2: 40 ms back to 20 ms), then ``Linear(d -> teacher_dim)``. Key names follow
the official checkpoint (``proj_head.{i}.upsampler.*``, ``proj_head.{i}.lin_proj.*``) so heads trained here
and there are interchangeable. DistilHuBERT's three prediction heads are the same heads, all reading the
student's last layer.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from fitedge.distill.models.encoder import Encoder
from fitedge.distill.train.layer_map import LayerMap


class HintHead(nn.Module):
    """``(batch, frames, student_dim)`` student frames to ``(batch, frames * f, teacher_dim)`` predictions."""

    def __init__(self, student_dim: int, teacher_dim: int, factor: int) -> None:
        super().__init__()
        # No time reduction, nothing to undo: the head is the projection alone.
        self.upsampler = nn.ConvTranspose1d(student_dim, student_dim, factor, stride=factor) if factor > 1 else None
        self.lin_proj = nn.Linear(student_dim, teacher_dim)

    def forward(self, x: Tensor) -> Tensor:
        if self.upsampler is not None:
            x = self.upsampler(x.transpose(1, 2)).transpose(1, 2)
        return self.lin_proj(x)


class HintHeads(nn.ModuleList):
    """One :class:`HintHead` per entry of a layer map; head ``i`` reads student layer ``layer_map[i][0]``."""

    def __init__(self, layer_map: LayerMap, student_dim: int, teacher_dim: int, factor: int) -> None:
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
        self.factor = cfg.time_reduction_factor if cfg.time_reduction else 1

    def forward(self, wav: Tensor, lengths: Tensor | None) -> tuple[list[Tensor], Tensor | None]:
        """Head predictions at the teacher's frame rate and their valid lengths ``(batch,)`` (or ``None``)."""
        out = self.student(wav, lengths)
        predictions = self.proj_head(out.hidden_states)
        return predictions, None if out.lengths is None else out.lengths * self.factor


def build_heads(student: Encoder, teacher_dim: int, layer_map: LayerMap) -> HintHeads:
    cfg = student.config
    return HintHeads(layer_map, cfg.dim, teacher_dim, cfg.time_reduction_factor if cfg.time_reduction else 1)
