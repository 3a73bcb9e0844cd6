"""ONNX (``.onnx``): exported with torch.onnx's dynamo exporter and fused for ONNX Runtime, which runs it.

int8 is applied to the float ``.onnx``: ONNX Runtime's own ``static`` QDQ quantizer (calibrated; the default) or
fitedge's ``dynamic`` rewrite (a scale per row, :mod:`fitedge.quantize.onnx_rows`). So a float file is written
beside the int8 one first, and removed once quantized. The profile is ONNX Runtime's own profiler, summed per op
type over the timed runs.
"""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from fitedge.edge.backends.base import Backend, BuildRequest, Built, OpProfile, OpTime, Runner, io_for
from fitedge.quantize.observers import ONNX_RUNTIME_METHODS


class OnnxRunner(Runner):
    runtime = "onnxruntime"

    def __init__(self, path: Path, threads: int | None, overrides: dict[str, Any],
                 options: Any = None) -> None:
        import onnxruntime as ort

        options = options or ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        length = inp.shape[1] if isinstance(inp.shape[1], int) else None
        names = [o.name for o in self.session.get_outputs()]
        super().__init__(path, **io_for(path, len(names), length, overrides, default_names=names))

    def _run(self, x: np.ndarray) -> list[np.ndarray]:
        return self.session.run(None, {self.input_name: x})


class OnnxRuntimeBackend(Backend):
    name, target, suffix = "onnxruntime", "onnx", ".onnx"
    title = "ONNX export (.onnx)"
    extra, run_extra = "onnx-export", "onnx"
    packages = ("onnxruntime", "onnx")
    preload = ("onnxruntime",)
    int8_modes = ("static", "dynamic")
    calibrations = ONNX_RUNTIME_METHODS
    arm64 = None

    def int8_mode(self, options: Any) -> str:
        return options.onnx_int8

    def quantizes_at_run_time(self, options: Any) -> bool:
        return self.int8_mode(options) == "dynamic"

    def closer_int8(self, options: Any) -> dict[str, str] | None:
        # Each frame's input to a linear gets its own scale, as in ExecuTorch's dynamic recipe.
        return None if self.quantizes_at_run_time(options) else {"onnx_int8": "dynamic"}

    def build(self, request: BuildRequest) -> Built:
        from fitedge.edge.lower.onnx import lower_to_onnx
        from fitedge.quantize.onnx_recipe import quantize_onnx

        path = request.path
        if request.precision == "fp32":
            lower_to_onnx(request.deployable, request.samples, path, request.output_names, request.dynamic,
                          request.grid)
            return Built("torch-onnx-dynamo-fp32-ort-fused")
        float_path = path.with_name(f".{path.stem}.float.onnx")
        lower_to_onnx(request.deployable, request.samples, float_path, request.output_names, request.dynamic,
                      request.grid)
        recipes: dict[Path, str] = {}  # each calibration's candidate file and recipe name

        def quantize(method: str) -> Path:
            candidate = path.with_name(f".{path.stem}.{method}.onnx")
            recipes[candidate] = quantize_onnx(float_path, candidate, request.calibration, request.keep_float,
                                               self.int8_mode(request.options), method=method)
            return candidate

        def run(model: Path) -> Callable[[np.ndarray], list[np.ndarray]]:
            runner = OnnxRunner(model, request.options.threads, {})
            return lambda window: list(runner.run(window).values())

        try:
            chosen, calibration = self.calibrated(request, quantize, run, run(float_path))
            chosen.replace(path)
        finally:
            for leftover in [float_path, *recipes]:
                leftover.unlink(missing_ok=True)
        return Built(recipes[chosen], {} if calibration is None else {"calibration": calibration.to_dict()})

    def open(self, path: Path, threads: int | None, overrides: dict[str, Any]) -> Runner:
        return OnnxRunner(path, threads, overrides)

    def open_quiet(self, path: Path, threads: int | None, overrides: dict[str, Any]) -> Runner:
        """ONNX Runtime's intra-op threads spin after each call by default. Timed in turns, fithubert's 49 sessions
        spinning against each other summed to 2.1x the whole file; with spinning off, 1.03x."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return OnnxRunner(path, threads, overrides, options)

    def write_metadata(self, path: Path, metadata: dict[str, str]) -> None:
        from fitedge.edge.lower.onnx import write_onnx_metadata

        write_onnx_metadata(path, metadata)

    def read_metadata(self, path: Path) -> dict[str, str]:
        from fitedge.edge.lower.onnx import read_onnx_metadata

        return read_onnx_metadata(path)

    def profile(self, path: Path, wav: np.ndarray, threads: int, warmup: int, iters: int, out_dir: Path) -> OpProfile:
        """ORT's profiler: per-op-type totals and the mean run time of the last ``iters`` of ``warmup + iters`` runs.

        Only the nodes inside the timed runs count (the trace also holds loading and warm-up).
        """
        import onnxruntime as ort

        with tempfile.TemporaryDirectory(prefix="fitedge-ort-profile-") as tmp:
            options = ort.SessionOptions()
            options.enable_profiling = True
            options.profile_file_prefix = str(Path(tmp) / "ort")
            runner = OnnxRunner(path, threads, {}, options)  # a timed run's feeds, cropping and checks
            for _ in range(warmup + iters):
                runner.run(wav)
            events = json.loads(Path(runner.session.end_profiling()).read_text())
        runs = [e for e in events if e.get("cat") == "Session" and e["name"] == "model_run"][-iters:]
        start = runs[0]["ts"]
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for e in events:
            if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["ts"] >= start:
                entry = totals[e["args"]["op_name"]]
                entry[0] += 1
                entry[1] += e["dur"]  # microseconds
        ops = [OpTime(op, calls, round(us / 1000, 3)) for op, (calls, us) in totals.items()]
        run_ms = round(sum(r["dur"] for r in runs) / len(runs) / 1000, 3)
        return OpProfile(run_ms=run_ms, ops=sorted(ops, key=lambda o: -o.total_ms))
