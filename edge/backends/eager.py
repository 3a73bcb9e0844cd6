"""Eager PyTorch: the model itself, run in-process. It builds no file; it is the reference every artifact is
checked against and the ``eager`` row of a benchmark."""

from __future__ import annotations

from typing import Any

import numpy as np

from fitedge.edge.backends.base import Backend, Runner
from fitedge.extras import require
from fitedge.threads import torch_threads

EAGER_OPTIONS = {"outputs", "input_samples", "head"}


class EagerRunner(Runner):
    """PyTorch eager execution of a :class:`~fitedge.distill.models.deployable.DeployableEncoder`."""

    runtime = "eager"

    def __init__(self, module: Any, output_names: list[str], input_samples: int | None, threads: int | None) -> None:
        super().__init__(None, input_samples, output_names)
        self.module = module
        self.threads = threads

    def _run(self, x: np.ndarray) -> list[np.ndarray]:
        import torch

        with torch_threads(self.threads), torch.inference_mode():
            return [t.numpy() for t in self.module(torch.from_numpy(x))]


class EagerBackend(Backend):
    name = "eager"
    title = "eager PyTorch"
    extra = run_extra = "torch"
    packages = ("torch",)
    preload = ("fitedge.distill.models.deployable",)

    def load_model(self, target: Any, threads: int | None, outputs: Any = "last", input_samples: int | None = None,
                   head: Any = None) -> EagerRunner:
        """``target`` (an :class:`Encoder`, a preset name or a checkpoint path) wrapped for inference."""
        require(self.run_extra, "eager PyTorch")  # a torch-free install runs files only: one line, not a traceback
        from fitedge.distill.checkpoints.source import load_encoder
        from fitedge.distill.models.deployable import DeployableEncoder, OutputSpec
        from fitedge.distill.models.encoder import Encoder

        encoder = target if isinstance(target, Encoder) else load_encoder(target)
        encoder.for_inference()
        spec = outputs if isinstance(outputs, OutputSpec) else OutputSpec.parse(str(outputs), encoder.config.layers)
        module = DeployableEncoder(encoder, spec, head).eval()
        return EagerRunner(module, spec.names, input_samples, threads)


EAGER = EagerBackend()
