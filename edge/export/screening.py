"""int8 auto's per-block screening with whichever int8 recipe is installed.

The screening quantizes one block at a time and measures the whole model's output against float. With
ExecuTorch installed it uses the ExecuTorch recipe simulated in PyTorch (:func:`fitedge.quantize.sensitivity.
measure_blocks`), as it always has. An install with only ``fitedge[onnx-export]`` has no PT2E quantizer, so it
screens with the recipe it will ship instead: ONNX Runtime's static QDQ int8 of a float ``.onnx`` file, one
block quantized at a time, run in ONNX Runtime. The plan's reason says which recipe screened. Without either,
nothing is screened and the plan says so (``auto`` then starts from plain int8, with no block to widen to).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from fitedge.distill.models.deployable import DeployableEncoder
from fitedge.extras import absent, install_hint
from fitedge.parity import parity, worst
from fitedge.quantize.sensitivity import BlockSensitivity, blocks

EXECUTORCH, ONNXRUNTIME = "executorch", "onnxruntime"
NOT_SCREENED = (f"not screened: per-block screening needs executorch ({install_hint('executorch')}) or onnxruntime "
                f"({install_hint('onnx-export')})")


def screening_recipe() -> str | None:
    """``executorch`` when its recipe is installed (the default), else ``onnxruntime``, else ``None``."""
    if not absent("executorch"):
        return EXECUTORCH
    if not absent("onnx-export"):
        return ONNXRUNTIME
    return None


def measure_blocks_onnx(deployable: DeployableEncoder, calibration: Sequence[np.ndarray],
                        held_out: Sequence[np.ndarray], group_layers: bool = False,
                        threads: int | None = None) -> list[BlockSensitivity]:
    """Each block of ``deployable`` alone in ONNX Runtime static int8 (the rest float), worst held-out window."""
    from fitedge.edge import runtime
    from fitedge.edge.lower.onnx import lower_to_onnx
    from fitedge.quantize.onnx_recipe import quantize_onnx

    with torch.no_grad():
        reference = [deployable(torch.from_numpy(w)[None])[0].numpy() for w in held_out]
    names, samples = blocks(deployable, group_layers), len(calibration[0])
    output_names = deployable.spec.names
    results = []
    with tempfile.TemporaryDirectory(prefix="fitedge-screen-") as folder:
        float_path = Path(folder) / "float.onnx"
        lower_to_onnx(deployable, samples, float_path, output_names)  # lowered once, quantized per block
        for block in names:
            others = [f"encoder.{b}" for b in names if b != block]
            int8_path = Path(folder) / "int8.onnx"
            quantize_onnx(float_path, int8_path, calibration, others)
            runner = runtime.load(int8_path, threads=threads, output_names=output_names, input_samples=samples)
            result = worst([parity(ref, runner.run(w)[output_names[0]]) for w, ref in zip(held_out, reference)])
            results.append(BlockSensitivity(block, result.cosine, result.snr_db))
            del runner
            int8_path.unlink()
    return results
