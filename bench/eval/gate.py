"""The PER gate of ``fitedge export --gate-per CORPUS --max-per-increase X``: task accuracy as deployed.

A probe is trained once on the float model's features (the head an app would ship), then decodes the test
split from the float model and from every artifact run in its own runtime. The float model sees the audio
framed exactly as each artifact does (same windows, same zero padding), so the PER difference is what the
artifact's lowering and quantization cost, nothing else. An artifact whose PER is more than ``max_increase``
percentage points above the float model's is refused; in int8 auto the export first rebuilds it with more
blocks float, as it does for the cosine floor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from fitedge.bench.eval.bootstrap import bootstrap_rate_difference
from fitedge.bench.eval.features import Framing, ModelFeatures, artifact_features, eager_features
from fitedge.bench.eval.per import DEFAULT_PROBE, EvalSettings, PerReport, score_per, train_corpus_probe
from fitedge.bench.eval.probe import ProbeConfig
from fitedge.edge.bundle.manifest import Manifest
from fitedge.errors import ConfigError, PerGateRefused
from fitedge.quantize.auto.refused import Widen, widen_while_refused

log = logging.getLogger(__name__)
Progress = Callable[[str], None]

# The gate runs inside an export: a few hundred utterances give an interval of a few points at most.
GATE_SETTINGS = EvalSettings(max_train=300, max_valid=60, max_test=150, resamples=500)


@dataclass(frozen=True)
class PerGate:
    """What ``--gate-per CORPUS --max-per-increase X`` asks for."""

    corpus: str
    max_increase: float = 2.0
    layer: str | int = "last"

    def apply(self, bundle_dir: Path, manifest: Manifest, reference: Any = None, threads: int | None = None,
              progress: Progress | None = None, widen: Widen | None = None) -> None:
        """What ``export_bundle`` calls on a finished bundle: :func:`apply_gate` with this gate."""
        apply_gate(bundle_dir, manifest, self, reference=reference, threads=threads, progress=progress, widen=widen)


@dataclass(frozen=True)
class ArtifactPer:
    """One artifact's PER beside the float model's under the same framing."""

    file: str
    precision: str
    per: float
    ci_low: float
    ci_high: float
    reference_per: float
    max_increase: float
    increase_ci: tuple[float, float] | None = None  # paired bootstrap interval of per - reference_per

    @property
    def increase(self) -> float:
        """PER increase over the float model, in percentage points."""
        return 100.0 * (self.per - self.reference_per)

    @property
    def passed(self) -> bool:
        return self.increase <= self.max_increase

    @property
    def increase_interval(self) -> str:
        """The increase's paired interval in points, ``-0.21..+1.50`` (empty when not measured)."""
        if self.increase_ci is None:
            return ""
        low, high = (100.0 * v for v in self.increase_ci)
        return f"{low:+.2f}..{high:+.2f}"

    def describe_increase(self) -> str:
        """``+0.65 points (95% CI -0.21..+1.50)``."""
        interval = f" (95% CI {self.increase_interval})" if self.increase_ci is not None else ""
        return f"{self.increase:+.2f} points{interval}"

    def to_dict(self) -> dict[str, Any]:
        numbers = {k: v for k, v in asdict(self).items() if k != "increase_ci"}
        ci = None if self.increase_ci is None else [round(100.0 * v, 3) for v in self.increase_ci]
        return {**numbers, "increase_points": round(self.increase, 3), "increase_ci_points": ci, "passed": self.passed}


@dataclass(frozen=True)
class GateResult:
    """The float model's PER per framing, and every artifact's."""

    corpus: str
    max_increase: float
    references: dict[str, PerReport]  # framing description -> float model's report
    artifacts: list[ArtifactPer]

    @property
    def refused(self) -> list[ArtifactPer]:
        return [a for a in self.artifacts if not a.passed]

    @property
    def passed(self) -> bool:
        return not self.refused

    def replacing(self, artifacts: list[ArtifactPer]) -> GateResult:
        """The same result with ``artifacts`` in place of the entries of the same files (re-gated ones)."""
        new = {a.file: a for a in artifacts}
        return replace(self, artifacts=[new.get(a.file, a) for a in self.artifacts])

    def raise_if_refused(self) -> None:
        """One-line :class:`PerGateRefused` naming the worst refused artifact and the numbers."""
        if self.refused:
            worst = max(self.refused, key=lambda a: a.increase)
            others = f" (and {len(self.refused) - 1} more)" if len(self.refused) > 1 else ""
            raise PerGateRefused(
                f"PER gate: {worst.file} has PER {100 * worst.per:.2f}%, {worst.increase:+.2f} points vs float "
                f"{100 * worst.reference_per:.2f}% (allowed +{self.max_increase:g}) on {self.corpus}{others}")

    def to_manifest(self) -> dict[str, Any]:
        """The manifest's ``per_gate`` section."""
        first = next(iter(self.references.values()))
        return {"corpus": self.corpus, "max_increase_points": self.max_increase,
                "probe": first.settings["probe"], "test_utterances": first.utterances,
                "reference": {framing: _per_numbers(r) for framing, r in self.references.items()}}


def gate_artifacts(bundle_dir_or_manifest: str | Path, corpus: str | Path, max_increase: float,
                   reference: Any = None, layer: str | int = "last", probe: ProbeConfig = DEFAULT_PROBE,
                   settings: EvalSettings = GATE_SETTINGS, threads: int | None = None,
                   progress: Progress | None = None, only: set[str] | None = None,
                   probes: dict[Framing, Any] | None = None) -> GateResult:
    """PER of every artifact of a bundle against its float model; see the module docstring.

    Args:
        bundle_dir_or_manifest: a bundle folder or its ``manifest.json``.
        corpus: a labelled corpus folder.
        max_increase: allowed PER increase over float, in percentage points.
        reference: the float model: an :class:`Encoder`, a model source, or a runner whose ``run`` returns
            the same output names as the artifacts (the export pipeline passes its eager runner). ``None``:
            the manifest's model source.
        layer: which output feeds the probe (``last``, an index, ``weighted``).
        probe, settings, threads: probe shape, corpus subsets, runtime threads.
        progress: called with one line per step.
        only: gate just these artifact files (the others are left out of the result).
        probes: trained probes by framing, reused and filled in: a re-gate after a rebuild trains none.
    """
    say = progress or log.info
    folder = Path(bundle_dir_or_manifest)
    folder = folder.parent if folder.suffix == ".json" else folder
    manifest = Manifest.read(folder)
    run_reference = _reference_run(reference, manifest)
    probes = {} if probes is None else probes
    references: dict[str, PerReport] = {}
    results = []
    for entry in manifest.artifacts:
        if only is not None and entry.file not in only:
            continue
        source = artifact_features(folder / entry.file, layer, threads)
        framing = source.framing
        if framing not in probes:
            float_source = ModelFeatures(run_reference, layer, "float", framing)
            say(f"PER gate: training the probe on float features ({framing.describe()})")
            trained = train_corpus_probe(float_source, corpus, probe, settings)
            probes[framing] = trained, score_per(trained, float_source, corpus, "float", settings)
        trained, ref = probes[framing]
        references[framing.describe()] = ref
        report = score_per(trained, source, corpus, entry.file, settings)
        result = ArtifactPer(entry.file, entry.precision, report.per, report.ci_low, report.ci_high, ref.per,
                             max_increase, paired_increase(report, ref, settings))
        say(f"PER gate: {entry.file} PER {100 * result.per:.2f}% ({result.describe_increase()} vs float "
            f"{100 * ref.per:.2f}%): {'ok' if result.passed else 'REFUSED'}")
        results.append(result)
    return GateResult(str(corpus), max_increase, references, results)


def paired_increase(report: PerReport, reference: PerReport, settings: EvalSettings) -> tuple[float, float]:
    """Paired bootstrap interval of ``report.per - reference.per``: both decoded the same test utterances."""
    if report.utterance_phonemes != reference.utterance_phonemes:
        raise ValueError(f"{report.model} and {reference.model} were not scored on the same utterances")
    ci = bootstrap_rate_difference(report.utterance_edits, reference.utterance_edits, report.utterance_phonemes,
                                   settings.ci_level, settings.resamples, settings.seed)
    return ci.low, ci.high


def apply_gate(bundle_dir: Path, manifest: Manifest, gate: PerGate, reference: Any = None,
               threads: int | None = None, progress: Progress | None = None,
               widen: Widen | None = None) -> GateResult:
    """Gate a bundle being written: refuse (raise) or record each artifact's PER in the manifest and report.

    ``manifest`` is the one just written to ``bundle_dir``; it gains ``per`` per artifact and ``per_gate``, and
    is written again (validated against the schema like any manifest write). ``widen(file, why)``, when given
    (int8 auto), rebuilds a refused artifact with one more block float and updates ``manifest``, returning
    ``False`` when it cannot; the rebuilt artifacts are gated again with the probes already trained.
    """
    from fitedge.edge.bundle import folder as bd

    probes: dict[Framing, Any] = {}
    result = gate_artifacts(bundle_dir, gate.corpus, gate.max_increase, reference, gate.layer, threads=threads,
                            progress=progress, probes=probes)
    result = widen_while_refused(
        result, widen, why=lambda a: f"PER {a.increase:+.2f} points vs float, allowed +{gate.max_increase:g}",
        regate=lambda files: gate_artifacts(bundle_dir, gate.corpus, gate.max_increase, reference, gate.layer,
                                            threads=threads, progress=progress, only=files, probes=probes).artifacts)
    result.raise_if_refused()
    by_file = {a.file: a for a in result.artifacts}
    for entry in manifest.artifacts:
        entry.extra["per"] = by_file[entry.file].to_dict()
    manifest.extra["per_gate"] = result.to_manifest()
    manifest.write(bundle_dir)
    report = bd.write_bundle_report(bundle_dir, manifest)
    report.write_text(report.read_text() + per_section(result))
    return result


def per_section(result: GateResult) -> str:
    """A markdown table of PER beside the artifacts, for the bundle's ``report.md``."""
    lines = ["## Phoneme error rate (PER gate)", "",
             f"Corpus `{result.corpus}`; allowed increase over float: {result.max_increase:g} points.", "",
             "| artifact | precision | PER % | 95% CI | vs float (points, paired 95% CI) |", "|---|---|---:|---:|---:|"]
    lines += [f"| {a.file} | {a.precision} | {100 * a.per:.2f} | {100 * a.ci_low:.1f}-{100 * a.ci_high:.1f} | "
              f"{a.increase:+.2f} {a.increase_interval} |" for a in result.artifacts]
    lines += [f"| float model ({framing}) | fp32 | {100 * r.per:.2f} | {100 * r.ci_low:.1f}-{100 * r.ci_high:.1f} | "
              "0 |" for framing, r in result.references.items()]
    return "\n".join(lines) + "\n"


def _reference_run(reference: Any, manifest: Manifest):
    """A ``run(wav) -> {name: array}`` callable for the float model."""
    if reference is not None and hasattr(reference, "run"):
        return reference.run
    if reference is None:
        source = manifest.model.source
        reference = source.split(":", 1)[1] if source.startswith("preset:") else source
        if "final_proj" in manifest.output_names():
            raise ConfigError("PER gate on a final_proj bundle needs the float model's runner as reference")
    if isinstance(reference, (str, Path)):
        from fitedge.distill.checkpoints.source import load_encoder

        reference = load_encoder(reference)
    return eager_features(reference).run


def _per_numbers(report: PerReport) -> dict[str, float]:
    return {"per": report.per, "ci_low": report.ci_low, "ci_high": report.ci_high}
