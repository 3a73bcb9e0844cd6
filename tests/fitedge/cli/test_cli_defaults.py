"""The command line's defaults and choices are the library's: each option that maps to a field of a config
dataclass shows that field's default, each choice list is the library's table, and the CLI stays light."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from typing import Any

import click
import pytest

from fitedge.bench.host.settings import MatrixSettings
from fitedge.cli import cli
from fitedge.cli.params import dataclass_default, field_default
from fitedge.distill.train.config import AMP_MODES, OBJECTIVES, DistillConfig, PretrainConfig
from fitedge.edge.export.options import (
    EXECUTORCH_INT8_MODES,
    INT8_MODES,
    LITERT_INT8_MODES,
    ONNX_INT8_MODES,
    ExportOptions,
)

# command path -> (the dataclass it builds, option names that differ from their field's name, required arguments)
CONFIGS: dict[str, tuple[type, dict[str, str], list[str]]] = {
    "export": (ExportOptions, {"precision": "precisions", "int8_mode": "int8"}, ["tiny", "--out", "b"]),
    "distill": (DistillConfig, {"steps": "max_steps", "minutes": "max_minutes", "accum": "accum_steps",
                                "workers": "num_workers"},
                ["--teacher", "t", "--student", "s", "--data", ".", "--out", "r"]),
    "pretrain": (PretrainConfig, {"units": "num_units", "steps": "max_steps", "minutes": "max_minutes"},
                 ["--data", ".", "--out", "r"]),
    "bench run": (MatrixSettings, {}, []),
}
CHOICES = {
    ("export", "int8_mode"): INT8_MODES, ("export", "executorch_int8"): EXECUTORCH_INT8_MODES,
    ("export", "litert_int8"): LITERT_INT8_MODES,
    ("export", "onnx_int8"): ONNX_INT8_MODES, ("distill", "objective"): OBJECTIVES, ("distill", "amp"): AMP_MODES,
}


def command(path: str) -> click.Command:
    found: click.Command = cli
    for name in path.split():
        assert isinstance(found, click.Group)
        found = found.commands[name]
    return found


def options(path: str) -> dict[str, click.Option]:
    return {p.name: p for p in command(path).params if isinstance(p, click.Option)}


def as_field(value: Any, like: Any) -> Any:
    """An option's parsed default in its field's form: ``"fp32,int8"`` becomes ``("fp32", "int8")``."""
    if isinstance(like, tuple) and isinstance(value, str):
        kind = type(like[0]) if like else str
        return tuple(kind(v) for v in value.split(",") if v.strip())
    return value


@pytest.mark.parametrize("path", sorted(CONFIGS))
def test_every_option_defaults_to_its_dataclass_field(path: str) -> None:
    config, renamed, required = CONFIGS[path]
    defaults = {f.name: dataclass_default(f) for f in dataclasses.fields(config)}
    found = options(path)
    assert set(renamed) <= set(found), f"{path}: the map names options the command no longer has"
    parsed = command(path).make_context(path, list(required)).params  # every default through its type and callback
    compared = {}
    for name in found:
        field = renamed.get(name, name)
        if field in defaults:
            compared[name] = (as_field(parsed[name], defaults[field]), defaults[field])
    differing = {name: pair for name, pair in compared.items() if pair[0] != pair[1]}
    assert differing == {}, f"{path}: CLI default vs {config.__name__} default"
    assert len(compared) >= 6, f"{path}: only {sorted(compared)} map to {config.__name__}"


@pytest.mark.parametrize(("path", "name"), sorted(CHOICES))
def test_every_choice_list_is_the_librarys(path: str, name: str) -> None:
    option = options(path)[name]
    assert isinstance(option.type, click.Choice)
    assert tuple(option.type.choices) == CHOICES[path, name]


def test_field_default_spells_tuples_as_the_options_do() -> None:
    assert field_default(ExportOptions, "precisions") == "fp32,int8"
    assert field_default(MatrixSettings, "seconds") == "4"
    assert field_default(ExportOptions, "keep_float") == ""
    assert field_default(DistillConfig, "lr") == DistillConfig().lr
    with pytest.raises(KeyError):
        field_default(DistillConfig, "no_such_field")


def test_the_command_line_does_not_import_torch() -> None:
    """The defaults and choices come from torch-free modules (the backends table imports numpy only), so
    ``fitedge --help`` stays quick and a torch-free install can run the commands that need no model."""
    code = ("import sys, fitedge.cli; heavy = {'torch', 'onnxruntime', 'executorch'} & set(sys.modules); "
            "assert not heavy, f'imported {heavy}'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
