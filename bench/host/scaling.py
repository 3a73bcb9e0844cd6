"""How latency grows with audio length and shrinks with threads, measured and explained.

Per transformer layer and frame, the projections and the feed-forward cost ``4*dim^2 + 2*dim*ffn`` MACs
whatever the length, while attention's score and value products cost ``2*T*dim``: linear in the frames
``T``, so quadratic overall. The two are equal at ``T = 2*dim + ffn`` frames; :func:`attention_crossover_s`
turns that into seconds of audio, which is where the growth visibly turns superlinear.
"""

from __future__ import annotations

import math
from collections import defaultdict

SUPERLINEAR_EXPONENT = 1.05  # a log-log slope above this is more than noise on a shared CPU


def attention_crossover_s(config: dict) -> float:
    """Audio length (s) at which attention's quadratic products cost as much as the rest of each layer."""
    return (2 * config["dim"] + config["ffn_dim"]) * frame_stride(config) / config["sample_rate"]


def frame_stride(config: dict) -> int:
    """Samples per transformer frame: the conv strides times the time reduction factor."""
    stride = math.prod(layer[2] for layer in config["conv_layers"])
    return stride * (config["time_reduction_factor"] if config.get("time_reduction") else 1)


def _series(runs: list[dict], fixed: tuple[str, ...], varying: str) -> list[list[dict]]:
    """Ok runs grouped by the ``fixed`` fields, each group sorted by ``varying``; only groups of two or more."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in runs:
        if r["status"] == "ok":
            groups[tuple(r[f] for f in fixed)].append(r)
    return [sorted(g, key=lambda r: r[varying]) for g in groups.values() if len({r[varying] for r in g}) > 1]


def length_scaling(runs: list[dict]) -> list[dict]:
    """Per artifact, device and threads with two or more lengths: the log-log slope of p50 against length."""
    rows = []
    for members in _series(runs, ("model", "artifact", "device", "threads"), "audio_seconds"):
        first, last = members[0], members[-1]
        exponent = math.log(last["latency"]["p50"] / first["latency"]["p50"]) / math.log(
            last["audio_seconds"] / first["audio_seconds"])
        rows.append({**{k: first[k] for k in ("model", "artifact", "device", "threads")},
                     "seconds": [r["audio_seconds"] for r in members],
                     "p50_ms": [r["latency"]["p50"] for r in members],
                     "ms_per_audio_s": [r["latency"]["p50"] / r["audio_seconds"] for r in members],
                     "exponent": exponent, "superlinear": exponent > SUPERLINEAR_EXPONENT})
    return rows


def thread_scaling(runs: list[dict]) -> list[dict]:
    """Per artifact, device and length with two or more thread counts: speedup from fewest to most threads."""
    rows = []
    for members in _series(runs, ("model", "artifact", "device", "audio_seconds"), "threads"):
        few, most = members[0], members[-1]
        speedup = few["latency"]["p50"] / most["latency"]["p50"]
        rows.append({**{k: few[k] for k in ("model", "artifact", "device", "audio_seconds")},
                     "threads": [r["threads"] for r in members], "p50_ms": [r["latency"]["p50"] for r in members],
                     "speedup": speedup, "parallel_efficiency": speedup / (most["threads"] / few["threads"])})
    return rows
