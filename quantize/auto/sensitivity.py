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


STANDS_OUT_FACTOR = 10.0  # a block's int8 loss against the least harmful block's
STANDS_OUT_STEP = 4.0  # one loss against the next smaller one


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


def worth_keeping_float(results: list[BlockSensitivity]) -> list[str]:
    """The blocks whose own int8 loss (1 - cosine) stands out, worst first.

    A block stands out when its loss is at least ``STANDS_OUT_FACTOR`` times the least harmful block's, or when
    it lies above a step of at least ``STANDS_OUT_STEP`` times between consecutive losses (sorted), and then so
    does every block above that step. The step catches a group of equally fragile blocks: in a thin front end
    every conv can be fragile alike (noise before a LayerNorm over a few channels is amplified on quiet
    frames). A trained student's 8 convs lost 0.0087-0.0099 each against 0.0010-0.0012 for the other blocks;
    the factor alone flagged one conv of the eight, and keeping that one float did not help (cosine 0.9867
    against 0.9866 plain; all eight float: 0.9983). A model with no fragile block has losses within a factor
    of 2 of each other and keeps nothing float.
    """
    losses = sorted((max(1.0 - r.cosine, 1e-7), r.block) for r in results)
    if len(losses) < 2:
        return []
    bar = max(STANDS_OUT_FACTOR * losses[0][0], 1e-6)
    step, cut = max((upper[0] / lower[0], i + 1) for i, (lower, upper) in enumerate(zip(losses, losses[1:])))
    first = min(cut if step >= STANDS_OUT_STEP else len(losses), next((i for i, (loss, _) in enumerate(losses)
                                                                        if loss > bar), len(losses)))
    return [block for _, block in reversed(losses[first:])]
