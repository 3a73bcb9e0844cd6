"""The streaming sweep's plot (matplotlib PNG): mean frame cosine (and, with a CTC head, the streamed-vs-full PER)
against algorithmic latency, per artifact."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from fitedge.bench.report.plots import _pyplot, _save

PANELS = (("cosine_mean", "mean cosine, streamed vs full utterance"), ("per_vs_full", "PER, streamed vs full (%)"))


def plot_stream_sweep(doc: dict[str, Any], path: str | Path) -> Path:
    """One line per artifact and left context through its chunk settings; ``doc`` is ``fitedge stream --json``
    (or any ``{"results": [...], "audio_seconds": ...}``). A second panel shows the PER when rows have one."""
    plt = _pyplot()
    panels = [p for p in PANELS if any(r.get(p[0]) is not None for r in doc["results"])] or PANELS[:1]
    fig, axes = plt.subplots(1, len(panels), figsize=(8 * len(panels), 5), squeeze=False)
    series: dict[tuple[str, float], list[dict[str, Any]]] = defaultdict(list)
    for r in doc["results"]:
        series[(r["artifact"], r["left_ms"])].append(r)
    for ax, (key, label) in zip(axes[0], panels):
        scale = 100.0 if key == "per_vs_full" else 1.0
        for (artifact, left), rows in sorted(series.items()):
            points = sorted((r["algorithmic_latency_ms"], scale * r[key], r["chunk_ms"]) for r in rows
                            if r.get(key) is not None)
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=f"{artifact}, left {left:g} ms")
            for latency, value, chunk in points:
                ax.annotate(f"{chunk:g}", (latency, value), textcoords="offset points", xytext=(3, 3), fontsize=7)
        ax.set_xlabel("algorithmic latency (ms)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"Streaming: parity against latency (points: chunk ms; {doc['audio_seconds']:.1f} s of audio)")
    return _save(fig, Path(path))
