"""Lower a deployable module to an ExecuTorch program (``.pte``) with the XNNPACK delegate.

The float graph is first rewritten so that XNNPACK takes every op (:mod:`fitedge.edge.lower.delegable`): one
delegated subgraph instead of dozens split by LayerNorm/GroupNorm. The int8 module comes in already
quantized by :func:`fitedge.quantize.pt2e.quantize_for_executorch`; its q/dq pairs are folded into XNNPACK int8 kernels.

With ``etrecord_path`` the lowering also writes the ETRecord (the exported, edge and ExecuTorch programs with
their debug handles): ExecuTorch's Inspector needs it to map an ETDump's events back to the PyTorch graph.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from torch import nn

from fitedge.distill.models.deployable import capture
from fitedge.errors import ExportError, one_line

log = logging.getLogger(__name__)


def lower_to_pte(module: nn.Module, samples: int, out_path: Path, dynamic: tuple[int, int] | None = None,
                 grid: tuple[int, int] | None = None, etrecord_path: Path | None = None) -> dict[str, Any]:
    """Export, partition for XNNPACK, write ``out_path`` (and the ETRecord to ``etrecord_path``).

    Returns the delegation numbers for the manifest.
    """
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower
    from executorch.kernels import quantized  # noqa: F401  portable kernels for q/dq ops XNNPACK leaves out

    program = capture(module, samples, dynamic, grid)
    try:
        edge = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()],
                                           generate_etrecord=etrecord_path is not None)
        delegation = delegation_numbers(edge.exported_program().graph_module)
        et_program = edge.to_executorch()
        if etrecord_path is not None:
            et_program.get_etrecord().save(str(etrecord_path))
    except Exception as e:  # the lowering stack raises assorted types; one line names the step
        raise ExportError(f"ExecuTorch lowering failed: {type(e).__name__}: {one_line(e)}") from e
    out_path.write_bytes(et_program.buffer)
    log.info("%s: %d delegated subgraphs, %d/%d nodes delegated", out_path.name, delegation["partitions"],
             delegation["delegated_nodes"], delegation["delegated_nodes"] + delegation["non_delegated_nodes"])
    return delegation


def delegation_numbers(graph_module: Any) -> dict[str, Any]:
    """Delegated/non-delegated node counts, partitions, and which op types stayed outside XNNPACK."""
    from executorch.devtools.backend_debug import get_delegation_info

    info = get_delegation_info(graph_module)
    outside = {op: b.non_delegated for op, b in info.delegation_by_operator.items()
               if b.non_delegated and op != "getitem"}
    return {
        "delegated_nodes": info.num_delegated_nodes,
        "non_delegated_nodes": info.num_non_delegated_nodes,
        "partitions": info.num_delegated_subgraphs,
        "non_delegated_ops": dict(sorted(outside.items())),
    }
