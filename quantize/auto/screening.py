"""int8 auto's first plan: the per-block screening with whichever int8 recipe is installed, and what it flags.

The screening quantizes one block at a time and measures the whole model's output against float. With
ExecuTorch installed it uses the ExecuTorch recipe simulated in PyTorch (:func:`fitedge.quantize.auto.sensitivity.
measure_blocks`), as it always has. An install with only ``fitedge[onnx-export]`` has no PT2E quantizer, so it
screens with the recipe it will ship instead: ONNX Runtime's static QDQ int8 of a float ``.onnx`` file, one
block quantized at a time, run in ONNX Runtime. Lowering to ``.onnx`` and loading into ONNX Runtime are the
runtime side's (:class:`OnnxRuntimeSide`, passed in). The plan's reason says which recipe screened. Without
either, nothing is screened and the plan says so (``auto`` then starts from plain int8, with no block to widen to).
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fitedge.distill.models.deployable import DeployableEncoder
from fitedge.extras import absent, install_hint
from fitedge.parity import parity, worst
from fitedge.quantize.auto.policy import Int8Plan, plan_int8
from fitedge.quantize.auto.sensitivity import BlockSensitivity, blocks, measure_blocks
from fitedge.quantize.calibration import CalibrationSet
from fitedge.quantize.onnx_recipe import quantize_onnx

EXECUTORCH, ONNXRUNTIME = "executorch", "onnxruntime"
NOT_SCREENED = (f"not screened: per-block screening needs executorch ({install_hint('executorch')}) or onnxruntime "
                f"({install_hint('onnx-export')})")
AUTO_CALIBRATION_WINDOWS, AUTO_HELD_OUT_WINDOWS = 4, 2  # int8 auto's per-block sweep: about 1 min for fithubert


@dataclass(frozen=True)
class OnnxRuntimeSide:
    """What screening with ONNX Runtime's recipe needs from the runtime side (quantize does not import it).

    ``lower(deployable, samples, path, output_names)`` writes a float ``.onnx`` file; ``load(path, output_names,
    samples)`` returns a runner whose ``run(wav)`` gives ``{output name: array}``.
    """

    lower: Callable[[DeployableEncoder, int, Path, list[str]], None]
    load: Callable[[Path, list[str], int], Any]


def screening_recipe() -> str | None:
    """``executorch`` when its recipe is installed (the default), else ``onnxruntime``, else ``None``."""
    if not absent("executorch"):
        return EXECUTORCH
    if not absent("onnx-export"):
        return ONNXRUNTIME
    return None


def first_plan(mode: str, keep_float: tuple[str, ...], model: Any, audio: CalibrationSet, onnx: OnnxRuntimeSide,
               say: Callable[[str], None]) -> Int8Plan:
    """The blocks int8 artifacts keep float: ``keep_float``, none (``plain``), or screened (``auto``).

    ``model`` is the export's model: its ``name`` and ``deployable()``.
    """
    recipe = screening_recipe()

    def measure() -> list[BlockSensitivity]:
        say(f"int8 auto: measuring each block's own int8 error ({model.name}; --int8 plain skips this)")
        # A screening, not the full `fitedge quantize sensitivity`: fewer windows, the layers as one block.
        calibration = audio.calibration[:AUTO_CALIBRATION_WINDOWS]
        held_out = audio.held_out[:AUTO_HELD_OUT_WINDOWS]
        if recipe == ONNXRUNTIME:
            return measure_blocks_onnx(model.deployable(), calibration, held_out, onnx, group_layers=True)
        return measure_blocks(model.deployable(), calibration, held_out, group_layers=True)

    if mode == "auto" and not keep_float and recipe is None:
        plan = Int8Plan("auto", (), NOT_SCREENED)
    else:
        plan = plan_int8(mode, keep_float, measure)
    if plan.mode == "auto" and recipe == ONNXRUNTIME:
        # Not after "; ": the report reads what follows "; " as the blocks widened after lowering.
        plan = dataclasses.replace(plan, reason=f"{plan.reason}, screened with ONNX Runtime's int8 recipe "
                                                f"(executorch is not installed)")
    if plan.mode == "auto":
        say(f"int8 auto: {'keeping ' + ', '.join(plan.keep_float) + ' float' if plan.keep_float else 'plain int8'}"
            f" ({plan.reason})")
    return plan


def measure_blocks_onnx(deployable: DeployableEncoder, calibration: Sequence[np.ndarray],
                        held_out: Sequence[np.ndarray], onnx: OnnxRuntimeSide,
                        group_layers: bool = False) -> list[BlockSensitivity]:
    """Each block of ``deployable`` alone in ONNX Runtime static int8 (the rest float), worst held-out window."""
    with torch.no_grad():
        reference = [deployable(torch.from_numpy(w)[None])[0].numpy() for w in held_out]
    names, samples = blocks(deployable, group_layers), len(calibration[0])
    output_names = deployable.spec.names
    results = []
    with tempfile.TemporaryDirectory(prefix="fitedge-screen-") as folder:
        float_path = Path(folder) / "float.onnx"
        onnx.lower(deployable, samples, float_path, output_names)  # lowered once, quantized per block
        for block in names:
            others = [f"encoder.{b}" for b in names if b != block]
            int8_path = Path(folder) / "int8.onnx"
            quantize_onnx(float_path, int8_path, calibration, others)
            runner = onnx.load(int8_path, output_names, samples)
            result = worst([parity(ref, runner.run(w)[output_names[0]]) for w, ref in zip(held_out, reference)])
            results.append(BlockSensitivity(block, result.cosine, result.snr_db))
            del runner
            int8_path.unlink()
    return results
