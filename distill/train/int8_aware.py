"""Int8-aware training: the student's convs and linears see int8 rounding as the int8 export recipes apply it.

The ExecuTorch recipe (``quantize/pt2e.py``: XNNPACK's symmetric config) stores every Conv1d and Linear weight
as int8, symmetric per output channel in [-127, 127], and rounds the activations at their inputs and outputs
to int8, affine per tensor in [-128, 127]. :func:`attach` puts PyTorch's own ``FakeQuantize`` modules
(``torch.ao.quantization``, with the observers XNNPACK's ``is_qat`` config uses) at exactly those places of a
float encoder: on weights as a parametrization (after weight norm, on the positional conv), on activations
as forward hooks. The forward pass then computes what the int8 model will, and the straight-through
estimator carries the gradient through the rounding. ONNX Runtime's recipe (``quantize/onnx_recipe.py``)
rounds at the same places, its weights a bit more coarsely (7 bits).

Fake quantization is attached for the whole run but switched off until its share of the schedule begins: the
module tree (so DDP's buffer list and the training state's keys) never changes mid-run, and on/off is a
buffer of each FakeQuantize that the training state saves. :meth:`Int8Aware.remove` takes it all out and
returns what the checkpoint records, the learned activation ranges among it; the weights left are the plain
float weights the rounding was trained around. Checkpoints written mid-run (the best one) take the same plain
weights from :meth:`Int8Aware.float_state_dict`, so that they load like any other.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import Tensor, nn
from torch.ao.quantization import (
    FakeQuantize,
    MovingAverageMinMaxObserver,
    MovingAveragePerChannelMinMaxObserver,
    disable_fake_quant,
    disable_observer,
    enable_fake_quant,
    enable_observer,
)
from torch.nn.utils import parametrize

log = logging.getLogger(__name__)

RECIPE = "xnnpack-symmetric: int8 weights per channel [-127, 127], int8 activations per tensor at conv/linear I/O"
QUANTIZED_TYPES = (nn.Conv1d, nn.Linear)
_EPS = 2**-12  # XNNPACK's config: the smallest scale
# The export observes each final weight's own range, so the weight observer follows the current weight
# (averaging constant 1); activations follow a moving average, as in XNNPACK's is_qat config.
WEIGHT_FAKE_QUANT = FakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, averaging_constant=1.0, quant_min=-127, quant_max=127,
    dtype=torch.qint8, qscheme=torch.per_channel_symmetric, ch_axis=0, eps=_EPS)
ACTIVATION_FAKE_QUANT = FakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=-128, quant_max=127, dtype=torch.qint8,
    qscheme=torch.per_tensor_affine, eps=_EPS)


class Int8Aware:
    """Fake quantization attached to every Conv1d and Linear of an encoder, on from a fraction of the schedule.

    Args:
        encoder: the module to make int8-aware, in place (the student, not its training-only hint heads).
        start: share of the schedule (0 to 1) after which fake quantization is on.
    """

    def __init__(self, encoder: nn.Module, start: float) -> None:
        self.encoder, self.start = encoder, start
        self.modules = {name: m for name, m in encoder.named_modules() if isinstance(m, QUANTIZED_TYPES)}
        self._hooks = []
        for module in self.modules.values():
            parametrize.register_parametrization(module, "weight", WEIGHT_FAKE_QUANT())
            module.input_fake_quant = ACTIVATION_FAKE_QUANT()
            module.output_fake_quant = ACTIVATION_FAKE_QUANT()
            self._hooks += [module.register_forward_pre_hook(_quantize_input),
                            module.register_forward_hook(_quantize_output)]
        self._switch(False)

    @property
    def active(self) -> bool:
        """Whether fake quantization is on; read from the modules' buffers, so a resumed run's state counts."""
        return any(bool(m.input_fake_quant.fake_quant_enabled) for m in self.modules.values())

    def follow(self, progress: float) -> bool:
        """Switch fake quantization on once ``progress`` (the schedule's share done, 0 to 1) reaches the start;
        ``True`` at the step it switches on (not again when a run resumes after it)."""
        active = progress >= self.start
        if active == self.active:
            return False
        self._switch(active)
        if active:
            log.info("int8-aware training from here on (%.0f%% of the schedule)", 100 * progress)
        return active

    def _switch(self, on: bool) -> None:
        for module in self.modules.values():
            module.apply(enable_fake_quant if on else disable_fake_quant)
            module.apply(enable_observer if on else disable_observer)

    def activation_ranges(self) -> dict[str, dict[str, list[float]]]:
        """The ``[min, max]`` each activation observer learned, by module name (only those that observed)."""
        ranges = {}
        for name, module in self.modules.items():
            seen = {side: _observed_range(getattr(module, f"{side}_fake_quant")) for side in ("input", "output")}
            if all(seen.values()):
                ranges[name] = seen
        return ranges

    def record(self) -> dict[str, Any]:
        """What a checkpoint records of it: the recipe, the start, whether it is on, the learned ranges."""
        return {"recipe": RECIPE, "from": self.start, "trained_int8_aware": self.active,
                "activation_ranges": self.activation_ranges()}

    def float_state_dict(self) -> dict[str, Tensor]:
        """The encoder's weights as :meth:`remove` leaves them (plain float, under the plain names), read while
        fake quantization stays attached."""
        dropped, renamed = [], {}
        for name, module in self.modules.items():
            chain = module.parametrizations["weight"]
            # The rounding is the chain's last link; weight norm's link under it (positional conv) is kept as is.
            dropped += [f"{name}.input_fake_quant.", f"{name}.output_fake_quant.",
                        f"{name}.parametrizations.weight.{len(chain) - 1}."]
            if len(chain) == 1:
                renamed[f"{name}.parametrizations.weight.original"] = f"{name}.weight"
        prefixes = tuple(dropped)
        return {renamed.get(k, k): v for k, v in self.encoder.state_dict().items() if not k.startswith(prefixes)}

    def remove(self) -> dict[str, Any]:
        """Take every fake quantization out (plain float weights stay); returns the checkpoint's record of it."""
        record = self.record()
        for hook in self._hooks:
            hook.remove()
        for module in self.modules.values():
            del module.input_fake_quant, module.output_fake_quant
            chain = module.parametrizations["weight"]
            if len(chain) > 1:  # weight norm underneath (the positional conv): keep it, drop the rounding on top
                del chain[len(chain) - 1]
            else:
                parametrize.remove_parametrizations(module, "weight", leave_parametrized=False)
        return record


def _quantize_input(module: nn.Module, args: tuple) -> tuple:
    return (_fake_quantize(module.input_fake_quant, args[0]), *args[1:])


def _quantize_output(module: nn.Module, args: tuple, output: Tensor) -> Tensor:
    return _fake_quantize(module.output_fake_quant, output)


def _fake_quantize(fake_quant: FakeQuantize, x: Tensor) -> Tensor:
    # FakeQuantize computes in float32; under fp16/bf16 autocast the activation comes back in its own dtype.
    return fake_quant(x.float()).to(x.dtype)


def _observed_range(fake_quant: FakeQuantize) -> list[float] | None:
    observer = fake_quant.activation_post_process
    low, high = float(observer.min_val), float(observer.max_val)
    return [low, high] if low <= high else None
