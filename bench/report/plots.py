"""PNG plots of a results document (matplotlib, headless): latency by artifact, latency against audio
length, and file size with the int8 saving. Each has a title, units and labelled axes."""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path

from fitedge.bench.host.compare import primary_cell

log = logging.getLogger(__name__)

DPI = 100  # keeps each PNG well under 200 KB


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _label(run: dict) -> str:
    name = run["artifact"] if run["artifact"].startswith(run["model"]) else f"{run['model']} {run['artifact']}"
    return name if run["device"] == "host" else f"{name} [{run['device']}]"


def _value(v: float) -> str:
    """A bar label: whole numbers with thousands separators from 100 up, three significant digits below."""
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    _pyplot().close(fig)
    return path


def plot_latency_by_artifact(runs: list[dict], path: Path) -> Path | None:
    """Horizontal bars of p50 latency (whiskers to p90) for every ok run of the primary length and threads."""
    ok = [r for r in runs if r["status"] == "ok"]
    cell = primary_cell(ok)
    if cell is None:
        return None
    chosen = sorted((r for r in ok if (r["audio_seconds"], r["threads"]) == cell), key=lambda r: -r["latency"]["p50"])
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 1.6 + 0.35 * len(chosen)))
    p50 = [r["latency"]["p50"] for r in chosen]
    whisker = [[0] * len(chosen), [r["latency"]["p90"] - r["latency"]["p50"] for r in chosen]]
    colors = ["tab:gray" if r["runtime"] == "eager" else "tab:orange" if r["precision"] == "int8" else "tab:blue"
              for r in chosen]
    ax.barh([_label(r) for r in chosen], p50, xerr=whisker, color=colors, capsize=3)
    for y, (value, extra) in enumerate(zip(p50, whisker[1])):
        ax.text(value + extra, y, f"  {_value(value)}", va="center", fontsize=8)
    ax.set_xlabel("latency, ms (bar: p50, whisker: p90)")
    ax.set_xlim(0, max(p + e for p, e in zip(p50, whisker[1])) * 1.15)
    ax.set_title(f"Latency by artifact, {cell[0]:g} s of audio, {cell[1]} threads\n"
                 "gray: eager PyTorch, blue: fp32, orange: int8", fontsize=10)
    return _save(fig, path)


def plot_latency_vs_length(scaling_rows: list[dict], path: Path) -> Path | None:
    """p50 latency against audio length for every artifact measured at two or more lengths."""
    if not scaling_rows:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    for row in scaling_rows:
        ax.plot(row["seconds"], row["p50_ms"], marker="o",
                label=f"{row['model']} {row['artifact']} ({row['threads']} thr, ~len^{row['exponent']:.2f})")
    # Log-log: a straight line of slope 1 is linear growth, a steeper one superlinear (attention's T x T).
    ax.set_xscale("log")
    ax.set_yscale("log")
    lengths = sorted({s for row in scaling_rows for s in row["seconds"]})
    ax.set_xticks(lengths, [f"{s:g}" for s in lengths])
    ax.tick_params(axis="x", which="minor", labelbottom=False)
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda v, _: _value(v))
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)
    ax.set_xlabel("audio length, s (log scale)")
    ax.set_ylabel("p50 latency, ms (log scale)")
    ax.set_title("Latency vs audio length (slope = exponent; > 1 is superlinear)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, path)


def int8_savings(runs: list[dict]) -> dict[tuple[str, str], float]:
    """Per (model, runtime): 1 - int8 bytes / fp32 bytes, where both artifacts exist."""
    sizes: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for r in runs:
        if r["bytes"] and r["device"] == "host":
            sizes[(r["model"], r["runtime"])][r["precision"]] = r["bytes"]
    return {k: 1 - v["int8"] / v["fp32"] for k, v in sizes.items() if "int8" in v and "fp32" in v}


def plot_sizes(runs: list[dict], path: Path) -> Path | None:
    """File size of every artifact that ran, with the int8 saving against the same runtime's fp32 file."""
    seen: dict[tuple[str, str], dict] = {}
    for r in runs:
        if r["bytes"] and r["device"] == "host" and r["status"] == "ok":
            seen.setdefault((r["model"], r["artifact"]), r)
    if not seen:
        return None
    chosen = sorted(seen.values(), key=lambda r: (r["model"], r["runtime"], r["precision"]))
    savings = int8_savings(chosen)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 1.6 + 0.35 * len(chosen)))
    mb = [r["bytes"] / 1e6 for r in chosen]
    ax.barh([_label(r) for r in chosen], mb, color=["tab:orange" if r["precision"] == "int8" else "tab:blue"
                                                    for r in chosen])
    for y, (r, value) in enumerate(zip(chosen, mb)):
        saving = savings.get((r["model"], r["runtime"])) if r["precision"] == "int8" else None
        ax.text(value, y, f" {_value(value)}" + (f"  (-{100 * saving:.0f}% vs fp32)" if saving else ""), va="center",
                fontsize=8)
    ax.set_xlabel("size, MB (eager: float32 weights)")
    ax.set_title("Model size by artifact\nblue: fp32, orange: int8 (saving vs the same runtime's fp32)", fontsize=10)
    ax.set_xlim(0, max(mb) * 1.35)
    return _save(fig, path)


def write_plots(doc: dict, out_dir: Path) -> list[Path]:
    """Every plot that the document has data for, as PNGs in ``out_dir``; none, with a notice, without matplotlib.

    The measurements are already taken when plotting starts, so a missing plotter must not cost them.
    """
    try:
        _pyplot()
    except ImportError:
        log.warning("no plots: matplotlib is not installed (pip install matplotlib); results.json and results.md "
                    "are written")
        return []
    made = [plot_latency_by_artifact(doc["runs"], out_dir / "latency_by_artifact.png"),
            plot_latency_vs_length(doc["scaling"]["length"], out_dir / "latency_vs_length.png"),
            plot_sizes(doc["runs"], out_dir / "size_by_artifact.png")]
    streamed = [r for r in doc.get("streams", []) if r["status"] == "ok"]
    if streamed:  # fitedge bench run --stream
        from fitedge.bench.report.stream_plot import plot_stream_sweep  # it builds on this module

        made.append(plot_stream_sweep({"results": streamed, "audio_seconds": streamed[0]["audio_seconds"]},
                                      out_dir / "stream_parity_vs_latency.png"))
    return [p for p in made if p is not None]
