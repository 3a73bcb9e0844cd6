"""The streaming sweep's plot (matplotlib PNG): mean frame cosine against algorithmic latency, per artifact."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from fitedge.bench.report.plots import _pyplot, _save


def plot_stream_sweep(doc: dict[str, Any], path: str | Path) -> Path:
    """One line per artifact and left context through its chunk settings; ``doc`` is ``fitedge stream --json``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    series: dict[tuple[str, float], list[tuple[float, float, float]]] = defaultdict(list)
    for r in doc["results"]:
        series[(r["artifact"], r["left_ms"])].append((r["algorithmic_latency_ms"], r["cosine_mean"], r["chunk_ms"]))
    for (artifact, left), points in sorted(series.items()):
        points.sort()
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=f"{artifact}, left {left:g} ms")
        for latency, cosine, chunk in points:
            ax.annotate(f"{chunk:g}", (latency, cosine), textcoords="offset points", xytext=(3, 3), fontsize=7)
    ax.set_xlabel("algorithmic latency (ms)")
    ax.set_ylabel("mean cosine, streamed vs full utterance")
    ax.set_title(f"Streaming: parity against latency (points: chunk ms; {doc['audio_seconds']:.1f} s of audio)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, Path(path))
