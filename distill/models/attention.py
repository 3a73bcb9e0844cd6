"""Multi-head self-attention written as explicit matmul and softmax, so every runtime can lower it."""

from __future__ import annotations

from torch import Tensor, nn

from fitedge.errors import ShapeMismatch


class SelfAttention(nn.Module):
    """Multi-head self-attention with q/k/v/out projections (fairseq ``MultiheadAttention``).

    Args:
        dim: model width.
        heads: number of heads; ``dim % heads == 0``.
        dropout: dropout on the attention probabilities (training only).
    """

    def __init__(self, dim: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.scaling = self.head_dim ** -0.5
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, attention_bias: Tensor | None = None) -> Tensor:
        """Attend over frames.

        Args:
            x: ``(batch, frames, dim)``.
            attention_bias: ``(batch, 1, 1, frames)`` added to the scores: 0 for real frames, a large
                negative number for padding. ``None`` when nothing is padded.
        """
        if x.dim() != 3 or x.shape[2] != self.heads * self.head_dim:
            raise ShapeMismatch(f"expected (batch, frames, {self.heads * self.head_dim}), got {tuple(x.shape)}")
        b, t, d = x.shape
        q = (self.q_proj(x) * self.scaling).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.heads, self.head_dim).permute(0, 2, 3, 1)
        v = self.v_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        scores = q @ k
        if attention_bias is not None:
            scores = scores + attention_bias
        probs = self.dropout(scores.softmax(dim=-1))
        out = (probs @ v).transpose(1, 2).reshape(b, t, d)
        return self.out_proj(out)
