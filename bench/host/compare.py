"""Ratios: each model against a reference's float32 eager run (the paper's comparison), and one results
file against another (``fitedge bench compare A.json B.json``)."""

from __future__ import annotations

from typing import Any

from fitedge.bench.host.targets import EAGER

PAPER_SIZE_PCT = 23.8  # FitHuBERT's parameters as % of HuBERT Base's (Lee et al. 2022, abstract)
PAPER_TIME_PCT = 35.9  # FitHuBERT's inference time as % of HuBERT Base's (hardware and length not stated)
DEFAULT_REFERENCE = "hubert-base"


def is_fithubert_like(config: dict | None, name: str) -> bool:
    """A thin-and-deep student: a time reduction layer, or a name that says so."""
    return bool(config and config.get("time_reduction")) or "fithubert" in name.lower()


def _ok(runs: list[dict]) -> list[dict]:
    return [r for r in runs if r["status"] == "ok"]


def _cell_key(run: dict) -> tuple:
    return run["device"], run["audio_seconds"], run["threads"]


def reference_comparisons(runs: list[dict], reference: str) -> list[dict]:
    """Every run as % of the reference model's float32 eager run in the same cell (the reference's own
    artifacts included: they show what the runtimes alone buy)."""
    ref_eager = {_cell_key(r): r for r in _ok(runs) if r["model"] == reference and r["artifact"] == EAGER}
    rows = []
    for run in _ok(runs):
        ref = ref_eager.get(_cell_key(run))
        if ref is None or run is ref:
            continue
        size_pct = 100.0 * run["bytes"] / ref["bytes"] if run["bytes"] and ref["bytes"] else None
        rows.append({
            "model": run["model"], "artifact": run["artifact"], "runtime": run["runtime"],
            "precision": run["precision"], "device": run["device"], "audio_seconds": run["audio_seconds"],
            "threads": run["threads"], "reference": reference,
            "size_pct": size_pct, "time_pct": 100.0 * run["latency"]["p50"] / ref["latency"]["p50"],
            "speedup": ref["latency"]["p50"] / run["latency"]["p50"],
            "paper_size_pct": PAPER_SIZE_PCT, "paper_time_pct": PAPER_TIME_PCT,
        })
    return rows


def primary_cell(rows: list[dict]) -> tuple[float, int] | None:
    """The (audio seconds, threads) that one number stands for: the middle length measured, the most threads."""
    if not rows:
        return None
    lengths = sorted({r["audio_seconds"] for r in rows})
    seconds = lengths[(len(lengths) - 1) // 2]
    return seconds, max(r["threads"] for r in rows if r["audio_seconds"] == seconds)


def headline(comparisons: list[dict]) -> dict | None:
    """The best deployable artifact (fastest non-eager host run) against the teacher as people run it today.

    Students first: the reference's own artifacts compete only when no other model was measured.
    """
    deployable = [c for c in comparisons if c["artifact"] != EAGER and c["device"] == "host"]
    students = [c for c in deployable if c["model"] != c["reference"]]
    deployable = students or deployable
    cell = primary_cell(deployable)
    if cell is None:
        return None
    same_cell = [c for c in deployable if (c["audio_seconds"], c["threads"]) == cell]
    return min(same_cell, key=lambda c: c["time_pct"])


def headline_text(best: dict | None) -> str:
    if best is None:
        return "no deployable artifact was measured beside the reference: no headline"
    size = f"{best['size_pct']:.1f}% of its size" if best["size_pct"] is not None else "size unknown"
    return (f"{best['model']} {best['artifact']} ({best['runtime']} {best['precision']}) vs {best['reference']} "
            f"fp32 eager: {size}, {best['time_pct']:.1f}% of its time ({best['speedup']:.2f}x faster) on "
            f"{best['audio_seconds']:g} s of audio with {best['threads']} threads "
            f"(paper: {PAPER_SIZE_PCT}% size, {PAPER_TIME_PCT}% time)")


def precision_spread(runs: list[dict]) -> list[dict]:
    """Per model and precision, each deployable artifact's p50 as a multiple of the fastest one (host, primary
    cell): the export's "within 1.3x of the fastest artifact of the same precision" goal, measured properly."""
    deployable = [r for r in _ok(runs) if r["artifact"] != EAGER and r["device"] == "host"]
    cell = primary_cell(deployable)
    rows = []
    for model, precision in sorted({(r["model"], r["precision"]) for r in deployable}):
        same = [r for r in deployable if (r["model"], r["precision"]) == (model, precision)
                and (r["audio_seconds"], r["threads"]) == cell]
        fastest = min((r["latency"]["p50"] for r in same), default=None)
        rows += [{"model": model, "precision": precision, "artifact": r["artifact"], "runtime": r["runtime"],
                  "p50_ms": r["latency"]["p50"], "vs_fastest": r["latency"]["p50"] / fastest}
                 for r in sorted(same, key=lambda r: r["latency"]["p50"])]
    return rows


def class_advice(runs: list[dict], cpu_class: str) -> list[str]:
    """Per model, the fastest artifact on this CPU class and whether int8 pays here (host, primary cell).

    int8's gain depends on the class: on an AVX2 CPU without VNNI int8 GEMMs ran only 1.6x fp32's peak, so an
    int8 artifact can be slower than fp32 there; the advice then names the fp32 one.
    """
    spread = precision_spread(runs)
    lines = []
    for model in sorted({r["model"] for r in spread}):
        best = {p: next((r for r in spread if r["model"] == model and r["precision"] == p), None)
                for p in ("fp32", "int8")}
        fp32, int8 = best["fp32"], best["int8"]
        if fp32 is None or int8 is None:
            # A loose artifact file has no manifest to say its precision ("unknown"): then the fastest of any.
            only = fp32 or int8 or min((r for r in spread if r["model"] == model), key=lambda r: r["p50_ms"])
            lines.append(f"{model} on {cpu_class}: fastest artifact {only['artifact']} ({only['p50_ms']:.1f} ms)")
        elif int8["p50_ms"] < fp32["p50_ms"]:
            lines.append(f"{model} on {cpu_class}: use {int8['artifact']} ({int8['p50_ms']:.1f} ms), int8 is "
                         f"{fp32['p50_ms'] / int8['p50_ms']:.2f}x faster than the fastest fp32 artifact "
                         f"({fp32['artifact']}, {fp32['p50_ms']:.1f} ms)")
        else:
            lines.append(f"{model} on {cpu_class}: int8 is not faster than fp32 on this CPU class "
                         f"({int8['artifact']} {int8['p50_ms']:.1f} ms against {fp32['artifact']} "
                         f"{fp32['p50_ms']:.1f} ms): use {fp32['artifact']}")
    return lines


def _run_key(run: dict) -> tuple:
    return run["model"], run["artifact"], run["device"], run["audio_seconds"], run["threads"]


def _ratio(b: float | None, a: float | None) -> float | None:
    return b / a if a and b is not None else None


def compare_runs(a: dict, b: dict) -> list[dict[str, Any]]:
    """Runs present and ok in both documents, with B/A ratios (below 1: B is smaller or faster)."""
    a_runs = {_run_key(r): r for r in _ok(a["runs"])}
    rows = []
    for run in _ok(b["runs"]):
        old = a_runs.get(_run_key(run))
        if old is None:
            continue
        rows.append({
            "model": run["model"], "artifact": run["artifact"], "device": run["device"],
            "audio_seconds": run["audio_seconds"], "threads": run["threads"],
            "a_p50_ms": old["latency"]["p50"], "b_p50_ms": run["latency"]["p50"],
            "p50_ratio": _ratio(run["latency"]["p50"], old["latency"]["p50"]),
            "p90_ratio": _ratio(run["latency"]["p90"], old["latency"]["p90"]),
            "bytes_ratio": _ratio(run["bytes"], old["bytes"]),
            "peak_rss_ratio": _ratio(run["peak_rss_mb"], old["peak_rss_mb"]),
            "load_ratio": _ratio(run["load_ms"], old["load_ms"]),
        })
    return rows


def unmatched_runs(a: dict, b: dict) -> list[str]:
    """Runs ok in only one of the two documents, as short labels."""
    keys_a = {_run_key(r) for r in _ok(a["runs"])}
    keys_b = {_run_key(r) for r in _ok(b["runs"])}
    return [f"{side}: {k[0]} {k[1]} {k[2]} {k[3]:g}s {k[4]}t"
            for side, keys in (("only in A", keys_a - keys_b), ("only in B", keys_b - keys_a)) for k in sorted(keys)]
