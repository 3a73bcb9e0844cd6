"""Each block of a model timed alone in a runtime, side by side with the whole artifact.

The runtimes' pip wheels give no per-part times (ExecuTorch's has no event tracer, LiteRT's Interpreter no
profiler), so each block is lowered as its own small model (:mod:`fitedge.quantize.auto.block_models`) through the
same backend and recipe as the artifact, loaded in the real runtime, and timed in turns with the others and the
whole artifact. Each block alone pays a call (copying its input in, waking the thread pool), which the whole
artifact pays once; so an empty model that costs one call (:func:`~fitedge.quantize.auto.block_models.call_probe`)
is timed in the same turns, and the blocks' *work* is their times less one call each, plus the whole's one call.
That work still misses what lies between blocks (waveform normalisation, the residual add and LayerNorm after the
positional conv, a head); its ratio to the whole says how far. ``fitedge bench run --per-block`` prints these
times; int8 auto reads what int8 saves per block.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fitedge.edge.backends import Backend, BuildRequest, Runner
from fitedge.edge.runtime.timing import in_turns_ms

if TYPE_CHECKING:  # cutting a model into blocks needs torch; timing them and reading the times does not
    from fitedge.quantize.auto.block_models import BlockModel

BLOCK_OUTPUT = "block_output"
NO_GRID = (1, 0)  # a block model takes any flat length; its length is static anyway


@dataclass(frozen=True)
class BlockTime:
    """One block's median time alone in its runtime, at ``precision`` (fp32 where an int8 artifact keeps it float)."""

    block: str
    precision: str
    ms: float


@dataclass(frozen=True)
class PerBlockTimes:
    """The blocks of one artifact timed alone, the whole artifact and an empty call, all in the same turns."""

    blocks: tuple[BlockTime, ...]
    whole_ms: float
    call_ms: float  # a model that costs one call and no work

    @property
    def sum_ms(self) -> float:
        """The blocks' times as measured, each with its own call."""
        return sum(b.ms for b in self.blocks)

    @property
    def work_ms(self) -> float:
        """The blocks' times less one call each, plus the one call the whole artifact pays."""
        return sum(max(b.ms - self.call_ms, 0.0) for b in self.blocks) + self.call_ms

    @property
    def ratio(self) -> float:
        """The blocks' work over the whole artifact's time."""
        return self.work_ms / self.whole_ms


def time_blocks(backend: Backend, cases: Sequence[tuple[BlockModel, str]], options: Any, threads: int, rounds: int,
                whole: tuple[Runner, np.ndarray] | None = None) -> tuple[list[BlockTime], float | None]:
    """Lower each ``(block, precision)`` with ``backend`` and time them (and ``whole``'s runner on its audio) in turns.

    ``options``: the export options whose recipe knobs the backend reads (LiteRT's and ONNX Runtime's int8 mode).
    Returns each case's median ms and the whole artifact's (``None`` without one).
    """
    with tempfile.TemporaryDirectory(prefix="fitedge-blocks-") as folder:
        runners = [_lower(backend, block, precision, Path(folder), options, threads) for block, precision in cases]
        calls = [partial(runner.run, block.inputs[0]) for runner, (block, _) in zip(runners, cases)]
        if whole is not None:
            calls.append(partial(whole[0].run, whole[1]))
        times = in_turns_ms(calls, rounds)
        del calls, runners  # release the programs before their files go
    blocks = [BlockTime(block.name, precision, round(ms, 4)) for (block, precision), ms in zip(cases, times)]
    return blocks, (round(times[-1], 4) if whole is not None else None)


def per_block_times(backend: Backend, blocks: Sequence[BlockModel], precision: str, keep_float: Sequence[str],
                    options: Any, threads: int, rounds: int, whole: tuple[Runner, np.ndarray]) -> PerBlockTimes:
    """Every block at the artifact's ``precision`` (those in ``keep_float`` fp32), beside whole and empty call."""
    from fitedge.quantize.auto.block_models import call_probe

    cases = [(b, "fp32" if b.name in keep_float else precision) for b in blocks]
    cases.append((call_probe(whole[1].shape[-1]), "fp32"))
    times, whole_ms = time_blocks(backend, cases, options, threads, rounds, whole)
    assert whole_ms is not None
    return PerBlockTimes(tuple(times[:-1]), whole_ms, times[-1].ms)


def float_and_int8_ms(backend: Backend, blocks: Sequence[BlockModel], options: Any, threads: int,
                      rounds: int) -> dict[str, tuple[float, float]]:
    """Each block's ``(fp32 ms, int8 ms)`` alone in ``backend``, all timed in the same turns."""
    cases = [(b, precision) for b in blocks for precision in ("fp32", "int8")]
    times, _ = time_blocks(backend, cases, options, threads, rounds)
    return {b.name: (times[2 * i].ms, times[2 * i + 1].ms) for i, b in enumerate(blocks)}


def _lower(backend: Backend, block: BlockModel, precision: str, folder: Path, options: Any, threads: int) -> Runner:
    path = folder / f"{block.name}_{precision}{backend.suffix}"
    backend.build(BuildRequest(block.module, precision, path, block.samples, None, NO_GRID, [BLOCK_OUTPUT],
                               list(block.inputs), [], options))
    return backend.open(path, threads, {"input_samples": block.samples, "output_names": [BLOCK_OUTPUT]})
