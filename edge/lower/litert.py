"""Lower a deployable module to LiteRT (``.tflite``) with litert-torch; static input shape (TFLite wants one).

The int8 path passes the PT2E quantizer that prepared the module (:mod:`fitedge.quantize.litert_recipe`)
so that the converter emits int8 kernels instead of q/dq pairs around float ops.
"""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from fitedge.errors import ExportError, one_line

log = logging.getLogger(__name__)


def lower_to_tflite(module: nn.Module, samples: int, out_path: Path, quantizer: Any = None) -> None:
    """Convert ``module`` for input ``(1, samples)`` and write ``out_path``."""
    import litert_torch
    from litert_torch.quantize.quant_config import QuantConfig

    example = (torch.zeros(1, samples),)
    quant_config = QuantConfig(pt2e_quantizer=quantizer) if quantizer is not None else None
    chatter = io.StringIO()
    try:
        # litert-torch prints a progress log of every conversion step to stdout; keep it for debugging only.
        with contextlib.redirect_stdout(chatter):
            model = litert_torch.convert(module, example, quant_config=quant_config)
            model.export(str(out_path))
    except Exception as e:  # the converter raises assorted types (MLIR, jax, torch); one line names the step
        raise ExportError(f"LiteRT conversion failed: {type(e).__name__}: {one_line(e)}") from e
    finally:
        log.debug("litert-torch: %s", chatter.getvalue())


def litert_input_quantization(path: Path) -> dict[str, Any] | None:
    """A fully-quantized (static int8) model takes integer audio: its dtype, scale and zero point, else ``None``."""
    from ai_edge_litert.interpreter import Interpreter

    details = Interpreter(model_path=str(path)).get_input_details()[0]
    if details["dtype"] == np.float32:
        return None
    scale, zero = details["quantization"]
    return {"dtype": np.dtype(details["dtype"]).name, "scale": float(scale), "zero_point": int(zero)}


def litert_delegation(path: Path) -> dict[str, Any]:
    """Op counts of the converted model: LiteRT applies XNNPACK at load time, so count the ops it lists."""
    from ai_edge_litert.interpreter import Interpreter

    ops = Interpreter(model_path=str(path))._get_ops_details()
    kinds: dict[str, int] = {}
    for op in ops:
        kinds[op["op_name"]] = kinds.get(op["op_name"], 0) + 1
    return {"ops": len(ops), "op_types": dict(sorted(kinds.items()))}
