"""Parameter types and options shared by several commands: ``--config FILE``, ``--steps N|auto``, and the
defaults an option takes from the library's config dataclasses.

``--config FILE`` (TOML or JSON) fills the command's defaults, as black's ``pyproject.toml`` does: every key is
an option's name (``batch-seconds`` or ``batch_seconds``), and an option given on the command line still wins.
A long ``fitedge distill`` can live in a file, and the torchrun relaunch hands its parsed options to the
child processes through such a file instead of re-spelling them as arguments.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path
from typing import Any

import click

from fitedge.files import write_json


def _read_config(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is None:
        return
    path = Path(value)
    try:
        text = path.read_text()
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (OSError, ValueError) as e:
        raise click.BadParameter(f"{value}: not a readable TOML/JSON file ({e})", ctx, param) from None
    if not isinstance(data, dict):
        raise click.BadParameter(f"{value}: expected a table of option names and values", ctx, param)
    names = {p.name for p in ctx.command.params if isinstance(p, click.Option)}
    defaults = {key.replace("-", "_"): item for key, item in data.items()}
    unknown = sorted(set(defaults) - names)
    if unknown:
        raise click.BadParameter(f"{value}: unknown option(s) {', '.join(unknown)} for `{ctx.command.name}`", ctx,
                                 param)
    ctx.default_map = {**(ctx.default_map or {}), **defaults}


config_option = click.option(
    "--config", type=click.Path(dir_okay=False), is_eager=True, expose_value=False, callback=_read_config,
    help="TOML or JSON file of option values (keys as the option names); the command line wins.")


def field_default(config: type, name: str) -> Any:
    """The default of field ``name`` of the dataclass ``config``: an option shows and uses the library's own value.

    A tuple field (``("fp32", "int8")``, ``(4.0,)``) comes back comma-separated, as such options are spelt.
    """
    value = dataclass_default({f.name: f for f in dataclasses.fields(config)}[name])
    if value is dataclasses.MISSING:
        raise TypeError(f"{config.__name__}.{name} has no default")
    if isinstance(value, tuple):
        return ",".join(v if isinstance(v, str) else f"{v:g}" for v in value)
    return value


def dataclass_default(field: dataclasses.Field) -> Any:
    """A field's default, from its factory when it has one (the export's targets: every registered backend)."""
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


def write_params(ctx: click.Context, path: Path, leave_out: tuple[str, ...] = ()) -> Path:
    """The command's parsed options as a ``--config`` file (JSON), for a child process to run the same command."""
    params: dict[str, Any] = {}
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if isinstance(param, click.Option) and param.name not in leave_out and value is not None:
            params[param.name] = str(value) if isinstance(value, Path) else value
    return write_json(path, params)


class Steps(click.ParamType):
    """A positive number of optimiser steps, or ``auto`` (0): as many as fit ``--minutes`` on this machine."""

    name = "N|auto"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if value in ("auto", 0):
            return 0
        try:
            steps = int(value)
        except (TypeError, ValueError):
            steps = -1
        if steps < 1:
            self.fail(f"{value!r} is neither a positive number of steps nor 'auto'", param, ctx)
        return steps
