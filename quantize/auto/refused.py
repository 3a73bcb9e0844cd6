"""int8 auto after a gate refuses an artifact (``--gate-per``): the next most harmful block float, rebuilt, gated again.

The gate and the rebuild are the caller's: a gate result is anything with ``refused`` (entries with a ``file``)
and ``replacing(entries)``; ``widen(file, why)`` rebuilds one artifact and says whether it could.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from fitedge.quantize.auto.policy import Int8Plan


class GateVerdict(Protocol):
    """What a gate's verdict offers: the entries it refused, and itself with some entries judged again."""

    @property
    def refused(self) -> list[Any]: ...

    def replacing(self, entries: list[Any]) -> GateVerdict: ...


Result = TypeVar("Result", bound=GateVerdict)
Widen = Callable[[str, str], bool]  # (artifact file, why) -> rebuilt with one more block float?


def widened_after_refusal(file: str, plan: Int8Plan | None, why: str, say: Callable[[str], None]) -> Int8Plan | None:
    """The plan ``file`` was built with, and the next most harmful block float; ``None`` when none is left (or fp32)."""
    wider = None if plan is None else plan.widen(f"{file} at {why}")
    if wider is not None:
        say(f"{file}: {why}; keeping {wider.keep_float[-1]} float too")
    return wider


def widen_while_refused(result: Result, widen: Widen | None, why: Callable[[Any], str],
                        regate: Callable[[set[str]], Iterable[Any]]) -> Result:
    """``result`` once every artifact it refused was rebuilt with more blocks float until accepted or none is left.

    ``why(entry)`` says why the gate refused an entry; ``regate(files)`` gates just those files again.
    """
    while widen is not None and result.refused:
        rebuilt = {entry.file for entry in result.refused if widen(entry.file, why(entry))}
        if not rebuilt:
            break
        result = result.replacing(list(regate(rebuilt)))
    return result
