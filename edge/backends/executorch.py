"""ExecuTorch (``.pte``, XNNPACK delegate): lowered with ``to_edge_transform_and_lower``, run by ``executorch.runtime``.

int8 is the XNNPACK quantizer's recipe (:func:`fitedge.quantize.pt2e.quantize_for_executorch`) on a graph shaped
for XNNPACK (:mod:`fitedge.edge.lower.delegable`): its norms are left float. ``--executorch-int8 static`` (the
default) carries int8 activations from op to op with calibrated ranges; ``dynamic`` quantizes each conv's and
linear's input per row at run time and keeps float in between: slower, and as close to float as int8 gets. The
int8 ``.pte`` has a static length: with a dynamic length XNNPACK leaves the quantized convolutions to portable
kernels, and executorch 1.4.1 then returns upper-bound output shapes.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from fitedge.console import third_party_output
from fitedge.edge.backends.base import Backend, BuildRequest, Built, OpProfile, Runner, io_for
from fitedge.edge.bundle import manifest as mf
from fitedge.quantize.observers import PT2E_METHODS

log = logging.getLogger(__name__)
NO_ETDUMP = ("no per-op profile: this executorch wheel was built without the event tracer "
             "(EXECUTORCH_ENABLE_EVENT_TRACER), so enable_etdump=True wrote no ETDump")


class ExecuTorchRunner(Runner):
    runtime = "executorch"

    def __init__(self, path: Path, threads: int | None, overrides: dict[str, Any]) -> None:
        from executorch.runtime import Runtime

        _set_threads(threads)
        self.program = Runtime.get().load_program(path)
        self.method = self.program.load_method("forward")
        meta = self.method.metadata
        sizes = list(meta.input_tensor_meta(0).sizes())
        super().__init__(path, **io_for(path, meta.num_outputs(), sizes[1], overrides))

    def _run(self, x: np.ndarray) -> list[np.ndarray]:
        import torch

        return [t.numpy() for t in self.method.execute([torch.from_numpy(x)])]


class ExecuTorchBackend(Backend):
    name, target, suffix = "executorch", "pte", ".pte"
    title = "ExecuTorch export (.pte)"
    extra = run_extra = "executorch"
    packages = ("executorch", "torchao")
    preload = ("executorch.runtime",)
    int8_modes = ("static", "dynamic")
    calibrations = PT2E_METHODS
    on_android = True
    arm64 = ("ExecuTorch's aarch64 Python runtime links torch, whose aarch64 PyPI build needs gigabytes of NVIDIA "
             "libraries; run .pte files on a phone with `fitedge bench run --on android`")

    def dynamic_length(self, precision: str) -> bool:
        return precision != "int8"

    def int8_mode(self, options: Any) -> str:
        return options.executorch_int8

    def quantizes_at_run_time(self, options: Any) -> bool:
        return self.int8_mode(options) == "dynamic"

    def closer_int8(self, options: Any) -> dict[str, str] | None:
        # Each row of a conv's or linear's input gets its own scale: a quiet frame keeps its resolution.
        return None if self.quantizes_at_run_time(options) else {"executorch_int8": "dynamic"}

    def build(self, request: BuildRequest) -> Built:
        from fitedge.edge.lower.delegable import norm_modules, xnnpack_friendly
        from fitedge.edge.lower.executorch import lower_to_pte
        from fitedge.quantize.pt2e import quantize_for_executorch, run_in_eager

        path, options = request.path, request.options
        etrecord = path.with_suffix(".etrecord") if options.etrecord else None
        friendly = xnnpack_friendly(request.deployable)
        entry: dict[str, Any] = {}
        if request.precision == "fp32":
            recipe, module = "xnnpack-fp32-delegable-norms", friendly
        else:
            kept = request.keep_float + norm_modules(friendly)
            quantized, calibration = self.calibrated(
                request, lambda method: quantize_for_executorch(friendly, request.calibration, kept, request.dynamic,
                                                                request.grid, method,
                                                                self.int8_mode(request.options)),
                lambda candidate: run_in_eager(candidate.module), run_in_eager(friendly))
            recipe, module = quantized.recipe, quantized.module
            if calibration is not None:
                entry["calibration"] = calibration.to_dict()
        entry["delegation"] = lower_to_pte(module, request.samples, path, request.dynamic, request.grid, etrecord)
        if etrecord is not None:
            entry["etrecord"] = {"file": etrecord.name, "bytes": etrecord.stat().st_size,
                                 "sha256": mf.sha256_file(etrecord)}
        return Built(recipe, entry)

    def open(self, path: Path, threads: int | None, overrides: dict[str, Any]) -> Runner:
        return ExecuTorchRunner(path, threads, overrides)

    def profile(self, path: Path, wav: np.ndarray, threads: int, warmup: int, iters: int, out_dir: Path) -> OpProfile:
        """Run with ETDump on: a wheel built with the event tracer writes per-op times for the Inspector."""
        import torch
        from executorch.runtime import Runtime

        ExecuTorchRunner(path, threads, {})  # sizes the process-wide threadpool as a timed run does
        program = Runtime.get().load_program(path, enable_etdump=True)
        method = program.load_method("forward")
        for _ in range(warmup + iters):
            method.execute([torch.from_numpy(wav)])
        etdump = out_dir / f"{path.stem}.etdp"
        with third_party_output():  # a wheel without the tracer logs a rebuild hint; the note says it
            program.write_etdump_result_to_file(str(etdump), str(out_dir / f"{path.stem}.debug.bin"))
        if not etdump.is_file():
            return OpProfile(note=NO_ETDUMP)
        return OpProfile(note=f"per-op times are in {etdump}: read it with executorch.devtools.Inspector and the "
                              ".etrecord beside the .pte", trace=str(etdump))


_loaded = False  # whether a method has been loaded in this process


def _set_threads(threads: int | None) -> None:
    """ExecuTorch's threadpool is process-wide; resizing it after a method has loaded crashes the process.

    The two calls are private: executorch 1.4's Python runtime has no public thread setting (its C++
    ``threadpool::get_threadpool()->_unsafe_reset_threadpool`` is what the pybindings wrap), and without them
    every artifact would run with one thread per core regardless of ``--threads``.
    """
    global _loaded
    from executorch.extension.pybindings import portable_lib

    with third_party_output():  # the threadpool's start logs cpuinfo probing through sys.stderr
        current = portable_lib._threadpool_get_thread_count()
    if threads and threads != current:
        if _loaded:
            log.warning("ExecuTorch already runs with %d threads in this process; keeping them", current)
        else:
            with third_party_output():
                portable_lib._unsafe_reset_threadpool(threads)
    _loaded = True
