"""A fourth runtime in one file: TorchScript (``.ts``), a backend outside fitedge that only the tests plug in.

It is registered by one entry point line (``torchscript = tests.helpers.torchscript_backend:TorchScriptBackend`` in
the group ``fitedge.backends``), which the test writes into a package's metadata, and then ``fitedge export``,
``verify``, ``bench run`` and the manifest's schema take ``.ts`` artifacts like the built-in ones. It traces the
deployable module with ``torch.jit.trace`` and keeps fitedge's description in the file's extra files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from fitedge.edge.backends import Backend, BuildRequest, Built, Runner
from fitedge.edge.backends.base import io_for

SHAPE_FILE, METADATA_FILE = "fitedge_io.json", "fitedge.json"


def _read_extra(path: Path, name: str) -> dict[str, Any]:
    import torch

    files = {name: ""}
    torch.jit.load(str(path), _extra_files=files)
    return json.loads(files[name]) if files[name] else {}


class TorchScriptRunner(Runner):
    runtime = "torchscript"

    def __init__(self, path: Path, threads: int | None, overrides: dict[str, Any]) -> None:
        import torch

        self.module = torch.jit.load(str(path))
        self.threads = threads
        shape = _read_extra(path, SHAPE_FILE)
        super().__init__(path, **io_for(path, shape["outputs"], shape["input_samples"], overrides))

    def _run(self, x: np.ndarray) -> list[np.ndarray]:
        import torch

        from fitedge.threads import torch_threads

        with torch_threads(self.threads), torch.inference_mode():
            return [t.numpy() for t in self.module(torch.from_numpy(x))]


class TorchScriptBackend(Backend):
    name, target, suffix = "torchscript", "ts", ".ts"
    title = "TorchScript export (.ts)"
    packages = ("torch",)
    preload = ("torch",)
    precisions = ("fp32",)
    arm64 = "the emulated arm64 environment has no torch"

    def dynamic_length(self, precision: str) -> bool:
        return False  # a trace bakes the example's length into its reshapes

    def build(self, request: BuildRequest) -> Built:
        import torch

        example = torch.zeros(1, request.samples)
        with torch.no_grad():
            traced = torch.jit.trace(request.deployable.eval(), example)
            outputs = len(traced(example))
        shape = {"input_samples": request.samples, "outputs": outputs}
        traced.save(str(request.path), _extra_files={SHAPE_FILE: json.dumps(shape)})
        return Built("torch-jit-trace-fp32")

    def open(self, path: Path, threads: int | None, overrides: dict[str, Any]) -> Runner:
        return TorchScriptRunner(path, threads, overrides)

    def write_metadata(self, path: Path, metadata: dict[str, str]) -> None:
        import torch

        files = {SHAPE_FILE: json.dumps(_read_extra(path, SHAPE_FILE)), METADATA_FILE: json.dumps(metadata)}
        torch.jit.load(str(path)).save(str(path), _extra_files=files)

    def read_metadata(self, path: Path) -> dict[str, str]:
        return _read_extra(path, METADATA_FILE)
