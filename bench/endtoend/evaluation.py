"""The recipe's evaluation: PER of MFCC, teacher, students and every artifact on both corpora, as table rows;
and two students' PER streamed live against their full-utterance PER (:func:`evaluate_streaming`).

Models get their own probe on whole utterances (:func:`evaluate_per`). Artifacts are judged as deployed
(:func:`gate_artifacts`): the probe is trained on their float model's features seen through the artifact's
framing, then decodes the artifact's own output; the float model under that framing is a row too. Each
result is cached as JSON under ``per/``, so a rerun of the recipe only computes what is missing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fitedge.bench.endtoend.pipeline import LABELS, PLAIN, STREAM_SETTINGS, STREAM_STUDENT, TRAINED_STUDENTS
from fitedge.bench.eval.gate import gate_artifacts
from fitedge.bench.eval.per import EvalSettings, evaluate_per
from fitedge.bench.eval.probe import ProbeConfig

log = logging.getLogger(__name__)
CORPORA = ("synth", "real")


@dataclass
class Row:
    """One line of the recipe's table."""

    model: str
    kind: str  # "features", "eager", "artifact"
    params: int | None = None
    size_bytes: int | None = None
    latency_ms: float | None = None
    per: dict[str, dict[str, float]] = field(default_factory=dict)  # corpus -> {per, ci_low, ci_high, ...}
    note: str = ""
    keep_float: list[str] | None = None  # an int8 artifact's modules left float (None: not an int8 artifact)


def evaluate_all(config: Any, paths: Any, steps: Any, say: Any) -> list[Row]:
    """Rows for MFCC, the teacher, every student (eager) and every artifact of their bundles."""
    corpora = {"synth": paths.synth if steps.ok("synth corpus") else None,
               "real": paths.asterisk if steps.ok("asterisk corpus") else None}
    settings = EvalSettings(max_train=config.max_train, max_test=config.max_test, seed=config.seed)
    probe = ProbeConfig(epochs=config.probe_epochs, seed=config.seed)
    models = [("teacher", paths.teacher, "pretrain teacher")]
    models += [(LABELS[n], paths.student(n), f"distill {n}") for n in (*TRAINED_STUDENTS, STREAM_STUDENT)]
    # Each model twice: its last layer (what the artifacts export) and SUPERB's learned weighted sum of layers.
    judged = [(Row("MFCC (floor)", "features", 0, note="13 MFCC + deltas, 20 ms stacks"), "mfcc", "last")]
    judged += [(Row(f"{name}, {label}", "eager", *_checkpoint_size(path)), str(path), layer)
               for name, path, step in models if steps.ok(step)
               for layer, label in (("last", "last layer"), ("weighted", "weighted layers"))]
    rows = [row for row, _, _ in judged]
    bundles = {n + suffix: paths.bundle(n + suffix) for n in TRAINED_STUDENTS for suffix in ("", PLAIN)
               if steps.ok(f"export {n}{suffix}")}
    artifact_rows: dict[str, Row] = {}
    for corpus_name, corpus in corpora.items():
        if corpus is None:
            continue
        for row, source, layer in judged:
            say(f"[PER {corpus_name}] {row.model}")
            report = _cached(paths.per / f"{corpus_name}_{_slug(row.model)}.json",
                             lambda s=source, c=corpus, n=layer: evaluate_per(s, c, n, probe, settings).to_dict())
            row.per[corpus_name] = _numbers(report)
        for name, bundle in bundles.items():
            say(f"[PER {corpus_name}] artifacts of {name}")
            student = paths.student(name.removesuffix(PLAIN))
            result = _cached(paths.per / f"{corpus_name}_bundle_{name}.json",
                             lambda b=bundle, c=corpus, m=student: _gate_numbers(b, c, m, probe, settings))
            for file, numbers in result.items():  # both bundles name their files after the checkpoint folder
                latencies = _bench_latencies(paths.bench / name / "results.json")
                row = artifact_rows.setdefault(f"{name}/{file}", _artifact_row(bundle, name, file, latencies))
                row.per[corpus_name] = numbers
    return rows + list(artifact_rows.values())


def evaluate_streaming(config: Any, paths: Any, steps: Any, say: Any) -> list[dict[str, Any]]:
    """The FitHuBERT student and its streaming twin on the synthetic test split, each decoded from its full-utterance
    features and streamed live at every :data:`STREAM_SETTINGS` by the same probe (last layer, what artifacts give).
    """
    from fitedge.edge.stream.source import StreamSettings

    if not steps.ok("synth corpus"):
        return []
    settings = EvalSettings(max_train=config.max_train, max_test=config.max_test, seed=config.seed)
    probe = ProbeConfig(epochs=config.probe_epochs, seed=config.seed)
    stream = [StreamSettings(*setting) for setting in STREAM_SETTINGS]
    results = []
    for name in ("fithubert", STREAM_STUDENT):
        if not steps.ok(f"distill {name}"):
            continue
        say(f"[PER synth, streamed] {LABELS[name]}")
        report = _cached(paths.per / f"synth_streamed_{name}.json",
                         lambda n=name: evaluate_per(paths.student(n), paths.synth, "last", probe, settings,
                                                     config.threads, stream=stream).to_dict())
        results.append({"model": LABELS[name], **_numbers(report), "utterances": report["utterances"],
                        "streamed": report["streamed"]})
    return results


def _gate_numbers(bundle: Path, corpus: Path, model: Path, probe: ProbeConfig, settings: EvalSettings) -> dict:
    result = gate_artifacts(bundle, corpus, float("inf"), reference=model, probe=probe, settings=settings)
    kept = ("per", "ci_low", "ci_high", "increase_points", "increase_ci_points")
    numbers = {a.file: {k: v for k, v in a.to_dict().items() if k in kept} for a in result.artifacts}
    for framing, report in result.references.items():
        numbers[f"float ({framing.split(':')[0]})"] = _numbers(report.to_dict())
    # Every artifact is scored on the same test utterances as its float reference: what sizing the test set needs.
    utterances = {report.utterances for report in result.references.values()}
    for values in numbers.values():
        values["utterances"] = max(utterances, default=0)
    return numbers


def _artifact_row(bundle: Path, name: str, file: str, latencies: dict[str, float]) -> Row:
    from fitedge.edge.bundle.manifest import Manifest

    manifest = Manifest.read(bundle)
    entry = manifest.artifact(file)
    model = manifest.model.parameters
    if entry is None:  # the float model under the artifacts' framing
        return Row(f"{name}: {file}", "eager", model, note="float model, framed like the artifacts")
    latency = latencies.get(file, entry.latency_ms)
    note = "latency: fitedge bench p50" if file in latencies else "latency: export's built-in timing"
    keep_float = list(entry.keep_float) if entry.precision == "int8" else None
    return Row(f"{name}: {file}", "artifact", model, entry.bytes, latency, note=note, keep_float=keep_float)


def _bench_latencies(results: Path) -> dict[str, float]:
    """Artifact file -> p50 ms from one bundle's ``fitedge bench run`` results.json (host runs), if there is one."""
    if not results.is_file():
        return {}
    doc = json.loads(results.read_text())
    out = {}
    for run in doc.get("runs", []):
        p50 = (run.get("latency") or {}).get("p50")
        if p50 is not None and run.get("artifact") and run.get("device", "host") == "host":
            out.setdefault(str(run["artifact"]), p50)
    return out


def _checkpoint_size(folder: Path) -> tuple[int, int]:
    from fitedge.distill.checkpoints.source import load_encoder

    weights = folder / "model.safetensors"
    return load_encoder(folder).num_parameters(), weights.stat().st_size if weights.is_file() else None


def _cached(path: Path, compute) -> dict:
    if path.is_file():
        return json.loads(path.read_text())
    value = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2) + "\n")
    return value


def _numbers(report: dict) -> dict[str, float]:
    return {k: report[k] for k in ("per", "ci_low", "ci_high")}


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")
