"""The recipe's report: one markdown table (model, params, size, latency, PER synthetic, PER real, what int8
auto kept float), the streaming table (PER streamed vs full), how many test utterances the measured paired
intervals ask for, and a plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fitedge.bench.endtoend.evaluation import CORPORA, Row
from fitedge.bench.eval.bootstrap import utterances_for_half_width

HEADER = ("| model | params | size | latency ms | PER synth % (95% CI) | PER real % (95% CI) | kept float |\n"
          "|---|---:|---:|---:|---:|---:|---|")
TARGET_HALF_WIDTH = 0.3  # points: resolves a 0.5-point int8 PER bar


def write_recipe_report(folder: Path, rows: list[Row], steps: Any, config: dict, training: dict[str, str],
                        streaming: list[dict[str, Any]] = ()) -> Path:
    """``report.md``, ``table.json``, ``streaming.json`` and ``per.png`` in ``folder``; returns the markdown's path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "table.json").write_text(json.dumps([r.__dict__ for r in rows], indent=2) + "\n")
    (folder / "streaming.json").write_text(json.dumps(list(streaming), indent=2) + "\n")
    plot = _plot(folder / "per.png", rows)
    lines = ["# fitedge recipe: distil -> int8 -> device runtime, judged by phoneme error rate", "",
             recipe_table(rows), "",
             "PER: CTC probe on frozen features (linear, SUPERB PR), trained on the train split, scored on the test "
             "split (voices or speakers unseen in training); 95% bootstrap interval over utterances. Artifact rows "
             "use the probe trained on their float model's features, under the artifact's framing (4 s windows, "
             "zero-padded), so the difference to the `float (...)` row is what lowering and int8 cost. It follows "
             "the `;`, with its paired 95% interval (the same utterances resampled for both, so it is narrower than "
             "the two rows' own intervals suggest).", ""]
    if plot:
        lines += [f"![PER per model]({plot.name})", ""]
    if streaming:
        lines += ["## Streaming", "", streaming_table(streaming), "",
                  "Each student's last layer, decoded by one probe trained on its full-utterance features: from the "
                  "whole utterance, and from the frames `fitedge.stream` emits with the test audio fed one chunk at "
                  "a time. Latency: algorithmic (chunk + lookahead + the front end's receptive field). The change "
                  "is streamed minus full, in points, with its paired 95% interval. Windows are zero-padded at the "
                  "audio's edges, or filled (`--fill-edges`: the first frame waits for a whole window).", ""]
    lines += ["## Test-set size", "", *sizing_lines(rows), ""]
    lines += ["## Steps", ""]
    lines += [f"- {name}: {seconds:g} s" for name, seconds in steps.done.items()]
    lines += [f"- {name}: cached" + ("" if seconds is None else f" (took {seconds:g} s when it ran)")
              for name, seconds in steps.cached.items()]
    lines += [f"- {name}: not available: {why}" for name, why in steps.missing.items()]
    lines += ["", "## Training (each run's schedule spans its minutes on this machine)", ""]
    lines += [f"- {name}: {what}" for name, what in training.items()]
    lines += ["", "## Settings", "", "```json", json.dumps(config, indent=2), "```", ""]
    path = folder / "report.md"
    path.write_text("\n".join(lines))
    return path


def recipe_table(rows: list[Row]) -> str:
    return "\n".join([HEADER] + [_row(r) for r in rows])


def streaming_table(streaming: list[dict[str, Any]]) -> str:
    """One row per student and chunk setting: latency, full and streamed PER, the paired change."""
    lines = ["| model | chunk / left / right ms | latency ms | PER full % | PER streamed % | change, points (95% CI) |",
             "|---|---|---:|---:|---:|---:|"]
    for model in streaming:
        for s in model["streamed"]:
            low, high = s["increase_ci_points"]
            filled = ", filled" if s.get("fill_edges") else ""
            lines.append(f"| {model['model']} | {s['chunk_ms']:g} / {s['left_ms']:g} / {s['right_ms']:g}{filled} | "
                         f"{s['algorithmic_latency_ms']:.0f} | {100 * model['per']:.2f} | {100 * s['per']:.2f} | "
                         f"{s['increase_points']:+.2f} ({low:+.2f}..{high:+.2f}) |")
    return "\n".join(lines)


def sizing_lines(rows: list[Row], target: float = TARGET_HALF_WIDTH) -> list[str]:
    """Per corpus: the widest paired artifact-vs-float interval, on how many utterances, and how many would
    give +/-``target`` points."""
    lines = []
    for corpus in CORPORA:
        measured = [(r, r.per[corpus]) for r in rows if r.per.get(corpus, {}).get("increase_ci_points")
                    and r.per[corpus].get("utterances")]
        if not measured:
            continue
        row, p = max(measured, key=lambda m: m[1]["increase_ci_points"][1] - m[1]["increase_ci_points"][0])
        low, high = p["increase_ci_points"]
        half = (high - low) / 2
        needed = utterances_for_half_width(half, p["utterances"], target)
        lines.append(f"- {corpus}: {p['utterances']} test utterances; the widest paired interval of an artifact's "
                     f"PER change is +/-{half:.2f} points ({row.model}); +/-{target:g} needs about {needed}")
    return lines or ["- no paired artifact intervals measured"]


def _row(r: Row) -> str:
    params = "-" if not r.params else f"{r.params / 1e6:.3f} M"
    size = "-" if r.size_bytes is None else f"{r.size_bytes / 1e6:.2f} MB"
    latency = "-" if r.latency_ms is None else f"{r.latency_ms:.1f}"
    kept = "-" if r.keep_float is None else ", ".join(r.keep_float) or "nothing"
    return f"| {r.model} | {params} | {size} | {latency} | {_per(r, 'synth')} | {_per(r, 'real')} | {kept} |"


def _per(r: Row, corpus: str) -> str:
    p = r.per.get(corpus)
    if p is None:
        return "not measured"
    text = f"{100 * p['per']:.1f} ({100 * p['ci_low']:.1f}-{100 * p['ci_high']:.1f})"
    if p.get("increase_ci_points"):  # an artifact: its change against the float row, paired over the same utterances
        low, high = p["increase_ci_points"]
        text += f"; {p['increase_points']:+.2f} ({low:+.2f}..{high:+.2f}) vs float"
    return text


def _plot(path: Path, rows: list[Row]) -> Path | None:
    """Horizontal bars of PER per row and corpus, with the bootstrap intervals as error bars."""
    measured = [r for r in rows if r.per]
    if not measured:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(9, 0.35 * len(measured) + 1.5))
    y = np.arange(len(measured))
    for k, corpus in enumerate(CORPORA):
        values = [100 * r.per[corpus]["per"] if corpus in r.per else np.nan for r in measured]
        low = [v - 100 * r.per[corpus]["ci_low"] if corpus in r.per else 0 for v, r in zip(values, measured)]
        high = [100 * r.per[corpus]["ci_high"] - v if corpus in r.per else 0 for v, r in zip(values, measured)]
        ax.barh(y + 0.4 * k, values, height=0.4, xerr=[low, high], label=f"PER {corpus}", capsize=2)
    ax.set_yticks(y + 0.2, [r.model for r in measured], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("phoneme error rate, % (lower is better)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
