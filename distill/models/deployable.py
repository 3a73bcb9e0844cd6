"""The deployable module: one waveform in, named feature tensors out, and its ``torch.export`` capture.

Every runtime sees the same graph: :class:`DeployableEncoder` wraps an inference-mode :class:`Encoder`,
fixes the I/O names (input ``wav``; outputs as chosen by :class:`OutputSpec`). The ExecuTorch lowering then
swaps the normalisation layers for forms that XNNPACK delegates (:mod:`fitedge.edge.lower.delegable`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from fitedge.distill.models.encoder import Encoder
from fitedge.errors import ConfigError, ExportError, one_line

INPUT_NAME = "wav"
LAST = "last_hidden_state"
FINAL_PROJ = "final_proj"
LOGITS = "logits"


@dataclass(frozen=True)
class OutputSpec:
    """Which tensors the deployed model returns.

    Attributes:
        kind: ``last`` (the last hidden state), ``layers`` (hidden states by index; ``all`` is every one) or
            ``final_proj`` (a FitHuBERT checkpoint's 768-d prediction head).
        layers: hidden-state indices for ``layers`` (0 = input of the first transformer layer).
        logits: also return a CTC head's per-frame token logits, last, as ``logits``.
    """

    kind: str = "last"
    layers: tuple[int, ...] = ()
    logits: bool = False

    @classmethod
    def parse(cls, text: str, num_layers: int) -> OutputSpec:
        """``last``, ``all``, ``final_proj`` or comma-separated layer indices such as ``4,8,12``."""
        text = text.strip()
        if text in ("last", FINAL_PROJ):
            return cls(text)
        if text == "all":
            return cls("layers", tuple(range(num_layers + 1)))
        try:
            layers = tuple(int(v) for v in text.split(","))
        except ValueError:
            raise ConfigError(f"--outputs must be last, all, final_proj or layer indices like 4,8,12; got {text!r}") \
                from None
        bad = [i for i in layers if not 0 <= i <= num_layers]
        if bad or len(set(layers)) != len(layers):
            raise ConfigError(f"--outputs layers must be distinct indices in 0..{num_layers}; got {text!r}")
        return cls("layers", layers)

    @property
    def names(self) -> list[str]:
        if self.kind == "layers":
            names = [f"hidden_state_{i}" for i in self.layers]
        else:
            names = [LAST if self.kind == "last" else FINAL_PROJ]
        return names + [LOGITS] if self.logits else names

    def layer_of(self, name: str, num_layers: int) -> int | None:
        """The hidden-state index an output name comes from (``None`` for ``final_proj`` and ``logits``)."""
        if name == LAST:
            return num_layers
        if name.startswith("hidden_state_"):
            return int(name.rsplit("_", 1)[1])
        return None


class DeployableEncoder(nn.Module):
    """``wav (1, samples)`` to the tuple of tensors named by ``spec.names``; the graph every runtime runs.

    ``head``: the module of the spec's head output, which is either ``final_proj`` (on the last hidden state)
    or ``logits`` (a :class:`~fitedge.distill.models.ctc_head.CtcHead`, on the whole encoder output).
    """

    def __init__(self, encoder: Encoder, spec: OutputSpec, head: nn.Module | None = None) -> None:
        super().__init__()
        if encoder.training or encoder.weight_normed:
            raise ExportError("call encoder.for_inference() before export (eval mode, weight norm folded)")
        if spec.kind == FINAL_PROJ and spec.logits:
            raise ConfigError("--outputs final_proj and a CTC head cannot go together: choose one head")
        if spec.kind == FINAL_PROJ and head is None:
            raise ConfigError("--outputs final_proj needs a checkpoint with a final_proj head")
        if spec.logits and head is None:
            raise ConfigError("logits need a CTC head (fitedge export --head)")
        self.encoder = encoder
        self.spec = spec
        self.head = head

    def forward(self, wav: Tensor) -> tuple[Tensor, ...]:
        out = self.encoder(wav)
        if self.spec.kind == FINAL_PROJ:
            return (self.head(out.last_hidden_state),)
        features = (out.last_hidden_state,) if self.spec.kind == "last" else \
            tuple(out.hidden_states[i] for i in self.spec.layers)
        return (*features, self.head(out)) if self.spec.logits else features


def on_grid(samples: int, grid: tuple[int, int]) -> int:
    """The longest length ``offset + multiple * k`` not above ``samples``."""
    multiple, offset = grid
    return offset + multiple * ((samples - offset) // multiple)


def dynamic_length(dynamic: tuple[int, int], grid: tuple[int, int]) -> Any:
    """The sample axis as ``offset + multiple * frames`` with ``frames`` bounded by ``dynamic`` (in samples).

    A plain ``Dim`` over samples fails: the conv stack's floor divisions leave guards that torch.export cannot
    prove over the range. On the grid every division is exact, so the frame count is the symbol itself.
    """
    multiple, offset = grid
    frames = torch.export.Dim("frames", min=max(2, (dynamic[0] - offset) // multiple),
                              max=(dynamic[1] - offset) // multiple)
    return multiple * frames + offset


def capture(module: nn.Module, samples: int, dynamic: tuple[int, int] | None = None,
            grid: tuple[int, int] | None = None) -> torch.export.ExportedProgram:
    """``torch.export`` the module for input ``(1, samples)``; ``dynamic`` bounds the sample axis on ``grid``."""
    shapes = None
    if dynamic is not None:
        assert grid is not None, "a dynamic length needs the length grid"
        samples = on_grid(samples, grid)  # the example must lie on the grid
        shapes = {INPUT_NAME: {1: dynamic_length(dynamic, grid)}}
    example = (torch.zeros(1, samples),)
    try:
        return torch.export.export(module, example, dynamic_shapes=shapes, strict=False)
    except Exception as e:  # torch.export raises many unrelated types; report one line
        raise ExportError(f"torch.export failed: {type(e).__name__}: {one_line(e)}") from e
