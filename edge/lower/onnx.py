"""Lower a deployable module to ONNX with the dynamo exporter: fixed I/O names, optional dynamic length axis.

The exported graph is then fused for ONNX Runtime (:func:`fuse_for_onnxruntime`): the exporter spells GELU
as Erf/Mul/Div/Add and LayerNorm after a residual as two nodes, which ORT's own session optimizer does not
merge; unfused they cost FitHuBERT about 15% of its CPU time in float and in int8.
"""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from fitedge.distill.models.deployable import INPUT_NAME, dynamic_length, on_grid
from fitedge.errors import ExportError, one_line

log = logging.getLogger(__name__)
OPSET = 18
STACK_TRACE_KEY = "pkg.torch.onnx.stack_trace"


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
    fuse_for_onnxruntime(out_path)


def fuse_for_onnxruntime(path: Path) -> None:
    """Rewrite ``path`` in place with ORT's exact fusions: Gelu, BiasGelu, LayerNorm and SkipLayerNorm.

    The fused nodes are ``com.microsoft`` contrib ops, so the file then needs ONNX Runtime (which is what
    the manifest names as its runtime). Attention fusion is off: it does not match this encoder's graph,
    and the approximate-GELU rewrite is off because parity is checked against the exact erf GELU.
    """
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    options = FusionOptions("bert")
    options.enable_attention = False
    options.enable_embed_layer_norm = False
    options.enable_gelu_approximation = False
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            fused = optimize_model(str(path), model_type="bert", optimization_options=options, opt_level=0)
            _drop_source_traces(fused.model)
            fused.save_model_to_file(str(path), use_external_data_format=False)
    except Exception as e:  # the optimizer raises assorted types; one line names the step
        raise ExportError(f"ONNX Runtime graph fusion failed: {type(e).__name__}: {one_line(e)}") from e
    log.info("fused for onnxruntime: %s", {k: v for k, v in fused.get_fused_operator_statistics().items() if v})


def _drop_source_traces(model: Any) -> None:
    """Remove the exporter's per-node Python stack traces: they hold the exporting machine's absolute source paths,
    so the same model exported from two checkouts gave two files (and leaked the user's folder names)."""
    for node in model.graph.node:
        kept = [p for p in node.metadata_props if p.key != STACK_TRACE_KEY]
        if len(kept) != len(node.metadata_props):
            del node.metadata_props[:]
            node.metadata_props.extend(kept)


def write_onnx_metadata(path: Path, metadata: dict[str, str]) -> None:
    """Add ``metadata`` to ``path``'s ``metadata_props`` in place, keeping the entries already there.

    Existing keys (onnxruntime's quantizer writes ``onnx.infer``) stay unless ``metadata`` names them too.
    """
    import onnx

    model = onnx.load(str(path))
    props = {p.key: p.value for p in model.metadata_props}
    onnx.helper.set_model_props(model, {**props, **metadata})
    onnx.save(model, str(path))


def read_onnx_metadata(path: Path) -> dict[str, str]:
    """``path``'s ``metadata_props`` as a dict, read without the weights."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}
