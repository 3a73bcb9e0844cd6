"""Per-block int8 sensitivity: quantize one block at a time and measure the whole model's output against float.

Uses the ExecuTorch recipe (XNNPACK quantizer, static per-channel) and runs the converted PT2E graph in
PyTorch, which simulates the int8 arithmetic with quantize/dequantize ops: no lowering needed, so a sweep
over every block takes seconds to minutes. Measured on held-out speech, as the export's int8 gate is.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import asdict, dataclass

import numpy as np
import torch

from fitedge.distill.models.deployable import DeployableEncoder, OutputSpec, capture
from fitedge.parity import parity, worst
from fitedge.quantize.pt2e import executorch_quantizer, quantize_graph

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BlockSensitivity:
    """The model's output quality with only ``block`` in int8."""

    block: str
    cosine: float
    snr_db: float

    def to_dict(self) -> dict:
        return asdict(self)


def blocks(deployable: DeployableEncoder, group_layers: bool = False) -> list[str]:
    """The quantizable blocks of the encoder: each conv layer, the projection, positional conv, TR, each layer.

    ``group_layers`` counts the transformer layers as one block (``encoder.layers``): a quicker sweep, for
    models whose layers are alike and whose fragile parts, when any, are the thin front end's convolutions.
    """
    encoder = deployable.encoder
    names = [f"feature_extractor.conv_layers.{i}" for i in range(len(encoder.feature_extractor.conv_layers))]
    names += ["feature_projection", "encoder.pos_conv_embed"]
    reduction = encoder.encoder.time_reduction
    if reduction is not None and any(p.numel() for p in reduction.parameters()):
        names.append("encoder.time_reduction")
    layers = [f"encoder.layers.{i}" for i in range(len(encoder.encoder.layers))]
    return names + (["encoder.layers"] if group_layers else layers)


def block_sensitivity(source: str, calib: str | None, seconds: float = 4.0,
                      calib_windows: int = 8) -> list[BlockSensitivity]:
    """Quantize each block of the model ``source`` names alone and compare its output with float on held-out speech."""
    from fitedge.distill.checkpoints.source import load_encoder
    from fitedge.quantize.calibration import load_calibration

    encoder = load_encoder(source).for_inference()
    deployable = DeployableEncoder(encoder, OutputSpec()).eval()
    audio = load_calibration(calib, round(seconds * encoder.config.sample_rate), calib_windows)
    return measure_blocks(deployable, audio.calibration, audio.held_out)


def measure_blocks(deployable: DeployableEncoder, calibration: list[np.ndarray], held_out: list[np.ndarray],
                   group_layers: bool = False) -> list[BlockSensitivity]:
    """Each block of ``deployable`` alone in int8 (the rest float): the whole output against float, worst window."""
    held = [torch.from_numpy(w)[None] for w in held_out]
    with torch.no_grad():
        reference = [deployable(w)[0].numpy() for w in held]
    results = []
    names = blocks(deployable, group_layers)
    graph = capture(deployable, len(calibration[0])).module()  # captured once, quantized per block
    for block in names:
        # The export recipe with every other block kept float (a module-name config for the block alone would
        # miss its convs: their weight nodes carry no module stack, so XNNPACK's name filter rejects them).
        others = [f"encoder.{b}" for b in names if b != block]
        quantizer = executorch_quantizer(deployable, others)
        quantized = quantize_graph(copy.deepcopy(graph), quantizer, calibration)
        with torch.no_grad():
            result = worst([parity(ref, quantized(w)[0].numpy()) for w, ref in zip(held, reference)])
        log.info("%s: %s", block, result.describe())
        results.append(BlockSensitivity(block, result.cosine, result.snr_db))
    return results


def worth_keeping_float(results: list[BlockSensitivity], factor: float = 10.0) -> list[str]:
    """Blocks whose own loss (1 - cosine) is at least ``factor`` times the least harmful block's, worst first.

    The least harmful block is the yardstick rather than the median: in a thin front end every conv can be
    equally fragile (noise before a LayerNorm over a few channels is amplified on quiet frames), and then
    the median block is one of them and nothing would stand out.
    """
    losses = [1.0 - r.cosine for r in results]
    if not losses:
        return []
    bar = max(factor * min(losses), 1e-6)
    ranked = sorted((r for r, loss in zip(results, losses) if loss > bar), key=lambda r: r.cosine)
    return [r.block for r in ranked]
