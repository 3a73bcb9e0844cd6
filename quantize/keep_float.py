"""``--keep-float PATTERNS``: which modules stay float in every int8 recipe.

Patterns are shell globs over the encoder's module names as ``fitedge info``/``state_dict`` spell them
(``feature_extractor.conv_layers.0``, ``encoder.pos_conv_embed``, ``encoder.layers.1*``), comma-separated.
Each must match at least one module with parameters, so a typo fails instead of silently quantizing.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from torch import nn

from fitedge.distill.models.conv_frontend import MuLaw
from fitedge.errors import ConfigError

ENCODER_PREFIX = "encoder."  # DeployableEncoder keeps the encoder under this attribute


def float_modules(deployable: nn.Module, patterns: tuple[str, ...]) -> list[str]:
    """Qualified names (in ``deployable``) of the outermost modules matched by ``patterns``."""
    names = [n for n, m in deployable.named_modules() if n.startswith(ENCODER_PREFIX) and
             any(True for _ in m.parameters())]
    chosen: list[str] = []
    for pattern in patterns:
        hits = [n for n in names if fnmatchcase(n[len(ENCODER_PREFIX):], pattern)]
        if not hits:
            raise ConfigError(f"--keep-float {pattern!r} matches no module; names look like "
                              f"feature_extractor.conv_layers.0, encoder.pos_conv_embed, encoder.layers.3")
        chosen.extend(hits)
    # A module inside another chosen one is already covered.
    outer = sorted({n for n in chosen if not any(n.startswith(o + ".") for o in chosen if o != n)})
    return outer


def leaf_modules(deployable: nn.Module, names: list[str]) -> list[str]:
    """Every module with its own parameters at or under ``names`` (what a quantizer annotates)."""
    return [n for n, m in deployable.named_modules()
            if any(n == o or n.startswith(o + ".") for o in names) and any(True for _ in m.parameters(recurse=False))]


def holds_linear(deployable: nn.Module, names: list[str]) -> bool:
    """Whether any of the modules ``names`` is or contains an ``nn.Linear``."""
    return any(isinstance(m, nn.Linear) for name in names for m in deployable.get_submodule(name).modules())


def float_by_design(deployable: nn.Module) -> list[str]:
    """Modules no int8 recipe quantizes, whatever the policy: the audio compander (:class:`MuLaw`).

    Its job is to bring raw audio onto a scale that an 8-bit grid can carry; a quantizer that rounded its own
    intermediate ``|x|`` to 8 bits (XNNPACK's annotates the products in it) would undo that before the log.
    """
    return [n for n, m in deployable.named_modules() if isinstance(m, MuLaw)]


def display_name(qualified: str) -> str:
    """The name a user wrote (without the wrapper's ``encoder.`` prefix)."""
    return qualified[len(ENCODER_PREFIX):] if qualified.startswith(ENCODER_PREFIX) else qualified
