"""Each block of a model timed alone in a runtime, side by side with the whole artifact.

The runtimes' pip wheels give no per-part times (ExecuTorch's has no event tracer, LiteRT's Interpreter no
profiler), so each block is lowered as its own small model (:mod:`fitedge.quantize.auto.block_models`) through the
same backend and recipe as the artifact, loaded in the real runtime, and timed in turns with the others and the
whole artifact. Two things keep a block alone from costing what it costs inside the whole:

- its boundary: the call, copying its input in and its output out, and in a static int8 recipe quantizing the
  one and dequantizing the other, where inside the whole the blocks hand each other int8 tensors. Empty models
  that take and give one size (:func:`~fitedge.quantize.auto.block_models.size_probe`, one multiply) are lowered
  the same way and timed in the same turns; a block's boundary is half the probe of its input size plus half the
  probe of its output size, and the blocks' *work* is their times less their boundaries, plus the whole's own
  boundary. On fithubert's early convs the boundary is a third to a half of the time alone.
- cold caches and a sleeping thread pool, after dozens of other programs ran: each timed call follows
  :data:`WARM_CALLS` untimed calls of the same program, as inside the whole each block follows the one before;
  and the other programs' threads still spinning: every program (the whole included) is opened with
  :meth:`~fitedge.edge.backends.base.Backend.open_quiet`.

That work still misses what lies between blocks (waveform normalisation, the residual add and LayerNorm after the
positional conv, a head); its ratio to the whole says how far. ``fitedge bench run --per-block`` prints these
times; int8 auto reads what int8 saves per block.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fitedge.edge.backends import Backend, BuildRequest, Runner
from fitedge.edge.runtime.timing import in_turns_ms

if TYPE_CHECKING:  # cutting a model into blocks needs torch; timing them and reading the times does not
    from fitedge.quantize.auto.block_models import BlockModel

BLOCK_OUTPUT = "block_output"
WARM_CALLS = 2  # untimed calls before each: fithubert's LiteRT int8 blocks summed 1.63x the whole cold, 1.35x, 1.26x
NO_GRID = (1, 0)  # a block model takes any flat length; its length is static anyway


@dataclass(frozen=True)
class BlockTime:
    """One block's median time alone in its runtime, at ``precision`` (fp32 where an int8 artifact keeps it float),
    and its boundary: what being called alone costs it (half its input size's probe plus half its output size's)."""

    block: str
    precision: str
    ms: float
    boundary_ms: float = 0.0

    @property
    def work_ms(self) -> float:
        """The block's time less its boundary's (never below zero)."""
        return max(self.ms - self.boundary_ms, 0.0)


@dataclass(frozen=True)
class PerBlockTimes:
    """The blocks of one artifact timed alone with their boundaries, and the whole artifact with its own boundary,
    all in the same turns."""

    blocks: tuple[BlockTime, ...]
    whole_ms: float
    whole_boundary_ms: float  # the whole artifact's own boundary: audio in, its outputs out

    @property
    def sum_ms(self) -> float:
        """The blocks' times as measured, each with its own boundary."""
        return sum(b.ms for b in self.blocks)

    @property
    def work_ms(self) -> float:
        """The blocks' times less their boundaries, plus the one boundary the whole artifact pays."""
        return sum(b.work_ms for b in self.blocks) + self.whole_boundary_ms

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
        times = in_turns_ms(calls, rounds, WARM_CALLS)
        del calls, runners  # release the programs before their files go
    blocks = [BlockTime(block.name, precision, round(ms, 4)) for (block, precision), ms in zip(cases, times)]
    return blocks, (round(times[-1], 4) if whole is not None else None)


def per_block_times(backend: Backend, blocks: Sequence[BlockModel], precision: str, keep_float: Sequence[str],
                    options: Any, threads: int, rounds: int, whole: tuple[Runner, np.ndarray]) -> PerBlockTimes:
    """Every block at the artifact's ``precision`` (those in ``keep_float`` fp32) and its boundary, beside the whole
    artifact and the whole's boundary (at ``precision``: its input and outputs are float either way)."""
    from fitedge.quantize.auto.block_models import block_output, size_probe

    runner, audio = whole
    ends = [(b.inputs[0], block_output(b), "fp32" if b.name in keep_float else precision) for b in blocks]
    ends.append((audio, np.concatenate([v.reshape(-1) for v in runner.run(audio).values()]), precision))
    probes: dict[tuple[int, str], BlockModel] = {}  # one per size and precision: fithubert's 12 layers share one
    for given, gives, at in ends:
        for values in (given, gives):
            probes.setdefault((values.size, at), size_probe(values))
    cases = [(b, at) for b, (_, _, at) in zip(blocks, ends)] + [(m, at) for (_, at), m in probes.items()]
    times, whole_ms = time_blocks(backend, cases, options, threads, rounds, whole)
    assert whole_ms is not None
    probe_ms = {key: t.ms for key, t in zip(probes, times[len(blocks):])}
    boundary = [(probe_ms[given.size, at] + probe_ms[gives.size, at]) / 2 for given, gives, at in ends]
    timed = tuple(replace(t, boundary_ms=round(ms, 4)) for t, ms in zip(times[:len(blocks)], boundary))
    return PerBlockTimes(timed, whole_ms, round(boundary[-1], 4))


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
    return backend.open_quiet(path, threads, {"input_samples": block.samples, "output_names": [BLOCK_OUTPUT]})
