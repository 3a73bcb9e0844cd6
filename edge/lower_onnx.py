"""Lower a deployable module to ONNX with the dynamo exporter: fixed I/O names, optional dynamic length axis."""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path

import torch
from torch import nn

from fitedge.edge.capture import INPUT_NAME, dynamic_length, on_grid
from fitedge.edge.runtime import one_line
from fitedge.errors import ExportError

log = logging.getLogger(__name__)
OPSET = 18


def lower_to_onnx(module: nn.Module, samples: int, out_path: Path, output_names: list[str],
                  dynamic: tuple[int, int] | None = None, grid: tuple[int, int] | None = None) -> None:
    """Export ``module`` for input ``(1, samples)`` to ``out_path`` (one self-contained file).

    With ``dynamic``, the sample axis is dynamic on the length ``grid`` (see :func:`capture.dynamic_length`).
    """
    shapes = None
    if dynamic is not None:
        samples = on_grid(samples, grid)
        shapes = {INPUT_NAME: {1: dynamic_length(dynamic, grid)}}
    example = (torch.zeros(1, samples),)
    chatter = io.StringIO()
    try:
        with contextlib.redirect_stdout(chatter):  # the exporter prints its progress
            torch.onnx.export(module, example, str(out_path), dynamo=True, input_names=[INPUT_NAME],
                              output_names=output_names, dynamic_shapes=shapes, opset_version=OPSET,
                              external_data=False, optimize=True, verbose=False)
    except Exception as e:  # the exporter raises assorted types; one line names the step
        raise ExportError(f"ONNX export failed: {type(e).__name__}: {one_line(e)}") from e
    finally:
        log.debug("torch.onnx: %s", chatter.getvalue())
