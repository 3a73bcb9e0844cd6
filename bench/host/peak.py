"""This machine's measured compute peak, so every latency can be read as "x% of what this CPU can do".

float32: a square GEMM with torch (MKL/oneDNN underneath); in a torch-free install (a bundle run on a device)
ONNX Runtime's float ``MatMul``, else numpy's. int8: ONNX Runtime's ``MatMulInteger`` kernel (uint8 x int8 ->
int32), the integer GEMM that its quantized models run. Both are best-of-N over a few runs
at each thread count, since a peak is the most the machine gave, not its average.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

import numpy as np

from fitedge.extras import installed
from fitedge.threads import torch_threads

log = logging.getLogger(__name__)

GEMM_SIZE = 1024  # 2.1 GFLOP per product: long enough to time, short enough for a 2-core machine
REPEATS = 10


@dataclass(frozen=True)
class MachinePeak:
    """Best measured GEMM throughput at one thread count (GFLOP/s for fp32, GOP/s for int8)."""

    threads: int
    fp32_gflops: float
    int8_gops: float | None
    size: int

    def to_dict(self) -> dict:
        return asdict(self)


def _best_rate(fn, ops: float, repeats: int) -> float:
    fn()  # first call allocates and selects kernels
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return ops / best / 1e9


def fp32_gemm_gflops(threads: int, size: int = GEMM_SIZE, repeats: int = REPEATS) -> float:
    """Peak float32 GEMM throughput at ``threads`` threads: torch's, else ONNX Runtime's, else numpy's."""
    if installed("torch"):
        import torch

        with torch_threads(threads):
            a, b = torch.randn(size, size), torch.randn(size, size)
            return _best_rate(lambda: torch.mm(a, b), 2.0 * size**3, repeats)
    rng = np.random.default_rng(0)
    feeds = {"a": rng.standard_normal((size, size), dtype=np.float32),
             "b": rng.standard_normal((size, size), dtype=np.float32)}
    if installed("onnxruntime") and installed("onnx"):
        return _onnxruntime_rate("MatMul", "FLOAT", feeds, threads, repeats)
    log.warning("neither torch nor onnxruntime is installed: the fp32 peak is numpy's matmul at its BLAS's own "
                "thread count, not %d", threads)
    return _best_rate(lambda: feeds["a"] @ feeds["b"], 2.0 * size**3, repeats)


def int8_gemm_gops(threads: int, size: int = GEMM_SIZE, repeats: int = REPEATS) -> float:
    """Peak int8 GEMM throughput of ONNX Runtime's MatMulInteger at ``threads`` threads."""
    rng = np.random.default_rng(0)
    feeds = {"a": rng.integers(0, 255, (size, size), dtype=np.uint8),
             "b": rng.integers(-127, 127, (size, size), dtype=np.int8)}
    return _onnxruntime_rate("MatMulInteger", "INT32", feeds, threads, repeats)


def _onnxruntime_rate(op: str, output_type: str, feeds: dict[str, np.ndarray], threads: int, repeats: int) -> float:
    """Best rate of ONNX Runtime's one-node GEMM ``op`` (``a @ b`` of the square ``feeds``) at ``threads``."""
    import onnxruntime as ort
    from onnx import TensorProto, helper

    size = feeds["a"].shape[0]
    graph = helper.make_graph(
        [helper.make_node(op, ["a", "b"], ["y"])], "gemm",
        [helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(x.dtype), [size, size])
         for name, x in feeds.items()],
        [helper.make_tensor_value_info("y", getattr(TensorProto, output_type), [size, size])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    return _best_rate(lambda: session.run(None, feeds), 2.0 * size**3, repeats)


def best_peak(a: MachinePeak, b: MachinePeak) -> MachinePeak:
    """The higher of two measurements of the same thread count (other load on the machine only lowers a peak)."""
    int8 = max((x for x in (a.int8_gops, b.int8_gops) if x is not None), default=None)
    return MachinePeak(threads=a.threads, fp32_gflops=max(a.fp32_gflops, b.fp32_gflops), int8_gops=int8, size=a.size)


def measure_peak(threads: int) -> MachinePeak:
    """fp32 and int8 GEMM peaks at ``threads``; the int8 one is None when ONNX Runtime is not installed."""
    fp32 = fp32_gemm_gflops(threads)
    try:
        int8 = int8_gemm_gops(threads)
    except ImportError:
        log.warning("onnxruntime is not installed: no int8 peak, int8 efficiencies are left empty")
        int8 = None
    return MachinePeak(threads=threads, fp32_gflops=fp32, int8_gops=int8, size=GEMM_SIZE)
