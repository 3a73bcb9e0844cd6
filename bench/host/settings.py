"""How each cell of the benchmark matrix runs: lengths, thread counts, runs, processes (:class:`MatrixSettings`).

Apart from the matrix (:mod:`.matrix`) and importing nothing heavy, so that the command line and
``fitedge.benchmark`` take their defaults from it without loading numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

from fitedge.audio import SAMPLE_RATE


@dataclass(frozen=True)
class MatrixSettings:
    """How each cell runs.

    Attributes:
        seconds: audio lengths to time, in seconds.
        threads: CPU thread counts to time.
        warmup: untimed runs after the first inference.
        iters: timed runs per cell.
        timeout_s: wall-clock limit of one cell's process (load + every run) before it is killed and marked failed.
        processes: fresh processes each cell is timed in; the one with the median p50 is recorded.
        sample_rate: audio sample rate (the whole family is 16 kHz).
    """

    seconds: tuple[float, ...] = (4.0,)
    threads: tuple[int, ...] = (2,)
    warmup: int = 5
    iters: int = 30
    timeout_s: float = 300.0
    processes: int = 3
    sample_rate: int = SAMPLE_RATE

    def samples(self, seconds: float) -> int:
        return int(round(seconds * self.sample_rate))
