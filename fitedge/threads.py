"""Run with N PyTorch threads, then restore: the one place that sets and puts back ``torch.set_num_threads``.

On a busy machine fewer threads than cores can be many times faster: a thread that waits for a core stalls
every parallel operation. Only PyTorch's intra-op pool is touched; its inter-op pool, ONNX Runtime's and
LiteRT's per-session threads and ExecuTorch's process-wide pool (``fitedge.edge.runtime``) are not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """PyTorch's intra-op threads set to ``threads`` (unchanged when ``None`` or 0) for the duration.

    The count in force before is restored on exit, also when the body raises.
    """
    import torch

    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
