"""Each block of a deployable encoder as its own small model, fed what it sees inside the whole model.

What each block costs in a runtime is measured by lowering the block alone (:mod:`fitedge.edge.export.per_block`).
Every lowering path takes one ``(1, samples)`` float input, so a block model takes its real input flattened to
``(1, numel)`` and views it back to the shape the block sees inside the full model (a free reshape): the same
backends, recipes and runners then lower, quantize and run blocks as they do whole models. The inputs are taken
from the float model on real audio, so a static int8 recipe calibrates each block on the ranges it really sees.
:func:`size_probe` is an empty block: what moving a block's input in and its output out costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from fitedge.distill.models.deployable import DeployableEncoder
from fitedge.errors import ConfigError


class FlatBlock(nn.Module):
    """``block`` (a module, or a list of modules run in turn) on a ``(1, numel)`` input viewed as ``shape``."""

    def __init__(self, block: nn.Module, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.block, self.shape = block, shape

    def forward(self, x: Tensor) -> Tensor:
        x = x.reshape(self.shape)
        for module in self.block if isinstance(self.block, nn.ModuleList) else [self.block]:
            x = module(x)
        return x


@dataclass(frozen=True)
class BlockModel:
    """One block as a model: its name (as int8 auto names it), the module, and its flattened real inputs."""

    name: str
    module: FlatBlock
    inputs: tuple[np.ndarray, ...]  # one (numel,) float32 array per audio window given

    @property
    def samples(self) -> int:
        """The flat input length, what the lowering calls ``samples``."""
        return int(self.inputs[0].size)


def block_models(deployable: DeployableEncoder, names: Sequence[str],
                 windows: Sequence[np.ndarray]) -> list[BlockModel]:
    """The blocks ``names`` of ``deployable`` (``feature_extractor.conv_layers.0``, ``encoder.layers``, ...) as models.

    A name that is a list of modules (``encoder.layers``, int8 auto's grouped layers) is one model running them in
    turn. The inputs are each block's first input while the float model runs on ``windows`` (same length each).
    """
    modules = {name: _module(deployable, name) for name in names}
    seen: dict[str, list[Tensor]] = {name: [] for name in names}

    def hook(name: str):
        def record(module: nn.Module, args: tuple) -> None:
            seen[name].append(args[0].detach().clone())
        return record

    handles = [(m[0] if isinstance(m, nn.ModuleList) else m).register_forward_pre_hook(hook(n))
               for n, m in modules.items()]
    try:
        with torch.no_grad():
            for window in windows:
                deployable(torch.from_numpy(np.asarray(window, dtype=np.float32))[None])
    finally:
        for handle in handles:
            handle.remove()
    return [BlockModel(name, FlatBlock(modules[name], tuple(seen[name][0].shape)).eval(),
                       tuple(t.reshape(-1).numpy() for t in seen[name])) for name in names]


def _module(deployable: DeployableEncoder, name: str) -> nn.Module:
    try:
        module = deployable.encoder.get_submodule(name)
    except AttributeError:
        raise ConfigError(f"no block {name!r} in {type(deployable.encoder).__name__}") from None
    if isinstance(module, nn.ModuleList) and len(module) == 0:
        raise ConfigError(f"block {name!r} is empty")
    return module


class _Scale(nn.Module):
    """One multiply by a weight: an op that every runtime delegates and every static int8 recipe quantizes."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor([0.5]))  # not 1: a converter may drop a multiply by one

    def forward(self, x: Tensor) -> Tensor:
        return x * self.scale


def size_probe(values: np.ndarray) -> BlockModel:
    """A model that takes ``values`` and gives as many back, each times one weight: what moving that many values
    into a call and out of it costs (copying them, and in a static int8 recipe quantizing and dequantizing them).

    A block timed alone pays that for its input and its output, where inside the whole model the blocks hand each
    other tensors in the runtime's own format; half a probe of its input size plus half one of its output size is
    that boundary. (A probe that slices or tiles its input to the output's size measures the slice instead, which
    LiteRT runs outside XNNPACK at up to 70 ms for fithubert's conv sizes.)
    """
    flat = np.asarray(values, dtype=np.float32).reshape(-1)
    return BlockModel(f"{flat.size} values in and out", FlatBlock(_Scale(), (1, flat.size)).eval(), (flat,))


def block_output(block: BlockModel) -> np.ndarray:
    """What ``block`` gives for its first input, flattened."""
    with torch.no_grad():
        return block.module(torch.from_numpy(block.inputs[0])[None]).reshape(-1).numpy()
