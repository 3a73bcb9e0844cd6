"""Human-readable views of a results document: the run table (rich on stdout, markdown in results.md),
the comparison against the reference and the paper, scaling, and failures."""

from __future__ import annotations

from pathlib import Path

from fitedge.bench.host import compare
from fitedge.bench.report.results import RESULTS_FILE, write_results
from fitedge.files import write_text

MB = 1e6
RUN_COLUMNS = ("model", "artifact", "runtime", "prec", "device", "audio s", "thr", "size MB", "load ms",
               "first ms", "p50 ms", "p90 ms", "p99 ms", "std ms", "p50 per process", "RTF", "peak MiB", "GFLOP/s",
               "% peak", "delegated", "status")
STREAM_COLUMNS = ("model", "artifact", "prec", "chunk ms", "left ms", "right ms", "RTF", "p50 ms", "p99 ms",
                  "algo ms", "first ms", "peak MiB", "cos mean", "cos worst", "PER vs full", "status")
COMPARISON_COLUMNS = ("model", "artifact", "runtime", "prec", "device", "audio s", "thr", "size %", "time %",
                      "speedup", "paper size %", "paper time %")


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _ms(value: float | None) -> str:
    """A time with about three significant digits: 1,234 / 123.4 / 12.34 / 0.456."""
    if value is None:
        return "-"
    return _num(value, 0 if value >= 1000 else 1 if value >= 100 else 2 if value >= 1 else 3)


def _delegation(d: dict | None) -> str:
    """Delegated share of graph nodes, from the manifest (ExecuTorch counts them; others may not)."""
    if not d:
        return "-"
    done, left = d.get("delegated_nodes"), d.get("non_delegated_nodes")
    if not isinstance(done, int) or not isinstance(left, int) or done + left == 0:
        return "-"
    return f"{100.0 * done / (done + left):.0f}% ({d.get('partitions', '?')} parts)"


def _status(run: dict) -> str:
    return run["status"] if run["status"] == "ok" else f"{run['status']}: {run['error']}"


def run_row(run: dict) -> list[str]:
    """One RUN record as table cells, in :data:`RUN_COLUMNS` order."""
    lat = run["latency"] or {}
    return [run["model"], run["artifact"], run["runtime"], run["precision"], run["device"],
            f"{run['audio_seconds']:g}", str(run["threads"]), _num(run["bytes"] and run["bytes"] / MB),
            _ms(run["load_ms"]), _ms(run["first_inference_ms"]), _ms(lat.get("p50")), _ms(lat.get("p90")),
            _ms(lat.get("p99")), _ms(lat.get("std")), " ".join(_ms(p) for p in run.get("process_p50_ms") or []) or "-",
            _num(run["rtf"], 4), _num(run["peak_rss_mb"], 0),
            _num(run["gflops"]), _num(run["peak_fraction"] and 100 * run["peak_fraction"]),
            _delegation(run["delegation"]), _status(run)]


def stream_row(r: dict) -> list[str]:
    """One STREAM record as table cells, in :data:`STREAM_COLUMNS` order."""
    per = r["per_vs_full"]
    return [r["model"], r["artifact"], r["precision"], f"{r['chunk_ms']:g}", f"{r['left_ms']:g}", f"{r['right_ms']:g}",
            _num(r["rtf"], 3), _ms(r["chunk_p50_ms"]), _ms(r["chunk_p99_ms"]), _num(r["algorithmic_latency_ms"], 0),
            _num(r["first_frame_latency_ms"], 0), _num(r["peak_rss_mb"], 0), _num(r["cosine_mean"], 4),
            _num(r["cosine_worst"], 4), "-" if per is None else f"{100 * per:.1f}%",
            _status(r) + (", filled windows" if r.get("fill_edges") else "")]


def comparison_row(c: dict) -> list[str]:
    return [c["model"], c["artifact"], c["runtime"], c["precision"], c["device"], f"{c['audio_seconds']:g}",
            str(c["threads"]), _num(c["size_pct"]), _num(c["time_pct"]), f"{c['speedup']:.2f}x",
            f"{c['paper_size_pct']}", f"{c['paper_time_pct']}"]


def markdown_table(columns: tuple[str, ...], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _load(values: list[float] | None) -> str:
    return "-" if not values else f"{values[0]:.1f}"


def environment_lines(doc: dict) -> list[str]:
    env = doc["environment"]
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v)
    peaks = "; ".join(f"{p['threads']} threads: fp32 {p['fp32_gflops']:.0f} GFLOP/s, int8 "
                      f"{_num(p['int8_gops'], 0)} GOP/s" for p in doc["peaks"])
    s = doc["settings"]
    load = env["load_average"]
    cpu_class = f", class {env['cpu']['class']}" if "cpu" in env else ""
    lines = [f"- Machine: {env['cpu_model']} ({env['machine']}{cpu_class}), {env['cores']} usable cores, "
             f"{env['os']}, Python {env['python']}",
             f"- Load average (1 min) at start / end: {_load(load['start'])} / {_load(load['end'])} (work of other "
             f"processes on these {env['cores']} cores slows every number here)",
             f"- Versions: {versions}"]
    if doc["runs"]:  # a --stream run has no latency matrix: its settings are in its rows and notes
        lines += [f"- Measured GEMM peak: {peaks}",
                  f"- Settings: audio {', '.join(f'{x:g}' for x in s['seconds'])} s; threads "
                  f"{', '.join(map(str, s['threads']))}; {s['warmup']} warm-up + {s['iterations']} timed runs per "
                  f"cell, in {s.get('processes', 1)} fresh process(es), the median one reported (timeout "
                  f"{s['timeout_s']:g} s each); reference: {s['reference'] or '-'}"]
    lines += [f"- Device {d['id']}: {d['manufacturer']} {d['model']} ({d['soc']}), Android {d['android_version']}, "
              f"{d['abi']}, {d['cores']} cores, thermal status {d['thermal_status']}" for d in doc["devices"]]
    return lines


def _growth(row: dict) -> str:
    return "superlinear" if row["superlinear"] else "sublinear" if row["exponent"] < 0.95 else "about linear"


def scaling_lines(doc: dict) -> list[str]:
    sc = doc["scaling"]
    lines = [f"- {r['model']} {r['artifact']} ({r['device']}, {r['threads']} threads): p50 "
             + " -> ".join(f"{p:.0f} ms @ {s:g} s" for s, p in zip(r["seconds"], r["p50_ms"]))
             + f"; latency ~ length^{r['exponent']:.2f} ({_growth(r)})"
             for r in sc["length"]]
    lines += [f"- {r['model']} {r['artifact']} ({r['device']}, {r['audio_seconds']:g} s): threads "
              f"{r['threads'][0]} -> {r['threads'][-1]} gives {r['speedup']:.2f}x "
              f"({100 * r['parallel_efficiency']:.0f}% parallel efficiency)" for r in sc["threads"]]
    lines += [f"- {m}: attention's T x T products cost as much as the rest of each layer at {s:.0f} s of audio; "
              "below that, growth is close to linear" for m, s in sc["attention_crossover_s"].items()]
    return lines


def results_markdown(doc: dict, plots: list[Path]) -> str:
    """The whole results.md."""
    parts = ["# fitedge bench results", "", *environment_lines(doc), ""]
    if doc["headline"] is not None or doc["comparisons"]:
        parts += ["## Against the reference and the paper", "", f"**{compare.headline_text(doc['headline'])}**", "",
                  markdown_table(COMPARISON_COLUMNS, [comparison_row(c) for c in doc["comparisons"]]), ""]
    if doc.get("streams"):
        parts += ["## Streaming (streamed frames against the full-utterance float32 eager output)", "",
                  markdown_table(STREAM_COLUMNS, [stream_row(r) for r in doc["streams"]]), ""]
    if doc["runs"] or not doc.get("streams"):
        parts += ["## Every run", "", markdown_table(RUN_COLUMNS, [run_row(r) for r in doc["runs"]]), ""]
    spread = compare.precision_spread(doc["runs"])
    if spread:
        parts += ["## Each artifact against the fastest of its precision", "",
                  markdown_table(("model", "precision", "artifact", "runtime", "p50 ms", "x fastest"),
                                 [[r["model"], r["precision"], r["artifact"], r["runtime"], _ms(r["p50_ms"]),
                                   f"{r['vs_fastest']:.2f}x"] for r in spread]), ""]
    if doc.get("advice"):
        parts += ["## What to ship on this CPU class", "", *[f"- {line}" for line in doc["advice"]], ""]
    parts += ["## Scaling", "", *scaling_lines(doc), ""] if any(doc["scaling"].values()) else []
    parts += [f"![{p.stem}]({p.name})" for p in plots]
    parts += ["", "## Notes", "", *[f"- {n}" for n in doc["notes"]]] if doc["notes"] else []
    return "\n".join(parts) + "\n"


CONSOLE_COLUMNS = ("model", "artifact", "prec", "device", "audio s", "thr", "size MB", "load ms", "p50 ms", "p90 ms",
                   "RTF", "peak MiB", "% peak", "status")


def print_tables(doc: dict, console) -> None:
    """A terminal-width subset of the run table, the failures in full, and the comparison, on a rich console."""
    from rich.table import Table

    keep = [RUN_COLUMNS.index(c) for c in CONSOLE_COLUMNS]
    table = Table(title="fitedge bench (every column: results.md)")
    for column in CONSOLE_COLUMNS:
        table.add_column(column, justify="left" if column in ("model", "artifact", "prec", "device", "status")
                         else "right")
    for run in doc["runs"]:
        cells = run_row(run)
        cells[-1] = run["status"]
        table.add_row(*(cells[i] for i in keep), style={"failed": "red", "skipped": "dim"}.get(run["status"]))
    console.print(table)
    for run in doc["runs"]:
        if run["status"] == "failed":
            console.print(f"failed: {run['model']} {run['artifact']} ({run['audio_seconds']:g} s, "
                          f"{run['threads']} threads): {run['error']}", style="red", soft_wrap=True)
    if doc["comparisons"]:
        comparison = Table(title=f"against {doc['settings']['reference']} fp32 eager (paper: "
                                 f"{compare.PAPER_SIZE_PCT}% size, {compare.PAPER_TIME_PCT}% time)")
        for column in COMPARISON_COLUMNS[:-2]:
            comparison.add_column(column)
        for c in doc["comparisons"]:
            comparison.add_row(*comparison_row(c)[:-2])
        console.print(comparison)
    if doc["headline"] is not None:
        console.print(compare.headline_text(doc["headline"]), style="bold", soft_wrap=True)
    for line in doc.get("advice", []):
        console.print(line, soft_wrap=True)


def write_results_folder(doc: dict, out_dir: Path) -> list[Path]:
    """results.json, the PNG plots and results.md in ``out_dir``; each file written whole, then renamed."""
    from fitedge.bench.report.plots import write_plots

    out_dir.mkdir(parents=True, exist_ok=True)
    results = write_results(out_dir / RESULTS_FILE, doc)
    plots = write_plots(doc, out_dir)
    markdown = write_text(out_dir / "results.md", results_markdown(doc, plots))
    return [results, markdown, *plots]


COMPARE_COLUMNS = ("model", "artifact", "device", "audio s", "thr", "A p50 ms", "B p50 ms", "p50 B/A", "p90 B/A",
                   "size B/A", "peak mem B/A", "load B/A")


def compare_row(r: dict) -> list[str]:
    return [r["model"], r["artifact"], r["device"], f"{r['audio_seconds']:g}", str(r["threads"]), _ms(r["a_p50_ms"]),
            _ms(r["b_p50_ms"]), *(_num(r[k], 3) for k in ("p50_ratio", "p90_ratio", "bytes_ratio", "peak_rss_ratio",
                                                               "load_ratio"))]


def print_comparison(rows: list[dict], unmatched: list[str], console) -> None:
    """``fitedge bench compare``'s table: B/A ratios per run, then the runs only one side has."""
    from rich.table import Table

    table = Table(title="B / A (below 1: B is smaller or faster)")
    for column in COMPARE_COLUMNS:
        table.add_column(column)
    for r in rows:
        table.add_row(*compare_row(r))
    console.print(table)
    for line in unmatched:
        console.print(line, style="dim")
