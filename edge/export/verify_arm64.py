"""``fitedge verify --arch arm64``: every artifact's parity on emulated phone-CPU classes, and its cost there.

Each artifact runs in the aarch64 build of its runtime under ``qemu-aarch64`` (:mod:`fitedge.edge.runtime.arm64`)
on each CPU model asked for, against the bundle's golden output, with the same thresholds as on x86-64
(:func:`fitedge.edge.export.verify.check_artifact`). The cost figure is the number of guest instructions one
inference executes, counted by a QEMU plugin: emulated time says nothing about a phone's latency, while the
instruction count, and the int8/fp32 ratio of it, show what the dot-product and i8mm kernels save.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fitedge.edge.backends import BACKENDS
from fitedge.edge.bundle.manifest import ArtifactEntry, Manifest
from fitedge.edge.export.verify import check_artifact, file_problem
from fitedge.errors import ConfigError, FitedgeError
from fitedge.host import arm_class
from fitedge.parity import Parity

NOT_RUN = "not run"


@dataclass
class Arm64Check:
    """One artifact on one emulated CPU class: ``status`` is ``ok``, ``FAIL`` or ``not run``."""

    file: str
    precision: str
    runtime: str
    cpu: str
    status: str
    problem: str = ""
    parity: Parity | None = None
    instructions: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "problem": self.problem,
                "parity": self.parity.to_dict() if self.parity else None, "instructions": self.instructions}


@dataclass
class Arm64Report:
    """The checks of a bundle on every CPU class, and each class as its emulated kernel describes it."""

    cpus: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: list[Arm64Check] = field(default_factory=list)
    emulator: str = ""

    def failed(self) -> list[Arm64Check]:
        return [c for c in self.checks if c.status == "FAIL"]

    def int8_ratios(self) -> dict[str, dict[str, float]]:
        """Per runtime and CPU class: instructions of the int8 inference over those of the fp32 one."""
        counts = {(c.runtime, c.cpu, c.precision): c.instructions for c in self.checks if c.instructions}
        return {runtime: {cpu: counts[runtime, cpu, "int8"] / counts[runtime, cpu, "fp32"]
                          for cpu in self.cpus if (runtime, cpu, "int8") in counts and (runtime, cpu, "fp32") in counts}
                for runtime in sorted({c.runtime for c in self.checks})}

    def to_dict(self) -> dict[str, Any]:
        return {"emulator": self.emulator, "cpus": self.cpus,
                "artifacts": [{"file": c.file, "cpu": c.cpu, **c.to_dict()} for c in self.checks],
                "int8_over_fp32_instructions": self.int8_ratios()}


def verify_bundle_arm64(folder: str | Path, cpus: list[str] | None = None,
                        progress: Any = lambda line: None) -> Arm64Report:
    """Run every artifact of the bundle at ``folder`` on each emulated CPU class in ``cpus`` (default: the
    three of :data:`~fitedge.edge.runtime.arm64.DEFAULT_CPUS`)."""
    from fitedge.edge.runtime import arm64

    arm64.qemu_path()  # before anything else: without qemu nothing below can work
    folder = Path(folder).resolve()
    manifest = Manifest.read(folder)
    cpus = list(cpus or arm64.DEFAULT_CPUS)
    unknown = [cpu for cpu in cpus if cpu not in arm64.CPU_CLASSES]
    if unknown:
        raise ConfigError(f"unknown CPU class {', '.join(unknown)}; choose from {', '.join(arm64.CPU_CLASSES)}")
    env = arm64.ensure_environment(progress)
    report = Arm64Report(emulator=_emulator_version(arm64.qemu_path()))
    entries = {e.file: e for e in manifest.artifacts}
    skipped = {name: file_problem(folder, e) or BACKENDS.for_file(name).arm64 or "" for name, e in entries.items()}
    runnable = [name for name, why in skipped.items() if not why]
    packages = {name: str(Path(module.__file__).parent) for name, module in _packages().items()}
    for cpu in cpus:
        emulated = arm64.CPU_CLASSES[cpu]
        progress(f"arm64 {cpu} (-cpu {emulated.qemu}): running {len(runnable)} artifacts")
        answer = arm64.run_on_cpu(env, cpu, {"bundle": str(folder), "artifacts": runnable, "packages": packages})
        report.cpus[cpu] = {"class": arm_class(answer["cpu"]["features"]), "qemu_cpu": emulated.qemu,
                            "stands_for": emulated.stands_for, **answer["cpu"]}
        results = {r["file"]: r for r in answer["artifacts"]}
        for name, entry in entries.items():
            check = Arm64Check(name, entry.precision, entry.runtime, cpu, NOT_RUN, skipped[name])
            if name in results:
                _judge(manifest, entry, results[name], answer["instructions"], check)
            report.checks.append(check)
    return report


def _judge(manifest: Manifest, entry: ArtifactEntry, result: dict[str, Any], marks: dict[int, int],
           check: Arm64Check) -> None:
    if "error" in result:
        check.status, check.problem = "FAIL", result["error"]
        return
    check.parity = Parity(**result["parity"])
    check.instructions = marks.get(result.get("mark", -1))
    try:
        check_artifact(manifest, entry, check.parity)
        check.status = "ok"
    except FitedgeError as e:
        check.status, check.problem = "FAIL", str(e)


def record_arm64(folder: str | Path, report: Arm64Report) -> None:
    """Write the results into the bundle: ``parity_arm64`` per artifact and an ``arm64`` section in the manifest,
    and the arm64 table in ``report.md``; both files are replaced atomically, the artifacts are untouched."""
    from fitedge.edge.bundle.folder import write_bundle_report

    folder = Path(folder)
    manifest = Manifest.read(folder)
    for entry in manifest.artifacts:
        entry.extra["parity_arm64"] = {c.cpu: c.to_dict() for c in report.checks if c.file == entry.file}
    manifest.extra["arm64"] = {"emulator": report.emulator,
                               "verified": datetime.now(UTC).isoformat(timespec="seconds"),
                               "cpus": report.cpus, "int8_over_fp32_instructions": report.int8_ratios()}
    manifest.write(folder)
    write_bundle_report(folder, manifest)


def format_table(report: Arm64Report) -> str:
    """The artifact x CPU table: parity, then instructions per inference, then the ISA each model exposes."""
    cpus = list(report.cpus)
    files = list(dict.fromkeys(c.file for c in report.checks))
    cell = {(c.file, c.cpu): c for c in report.checks}
    lines = [f"on {report.emulator}, one emulated core per CPU class", "",
             f"{'artifact':28s}" + "".join(f" {cpu:>20s}" for cpu in cpus)]
    for name in files:
        lines.append(f"{name:28s}" + "".join(f" {_parity_cell(cell[name, cpu]):>20s}" for cpu in cpus))
    if any(c.instructions for c in report.checks):
        lines += ["", "instructions per inference (millions)"]
        for name in files:
            counts = [cell[name, cpu].instructions for cpu in cpus]
            lines.append(f"{name:28s}" + "".join(f" {'-' if n is None else f'{n / 1e6:,.1f}':>20s}" for n in counts))
        for runtime, ratios in report.int8_ratios().items():
            if ratios:
                lines.append(f"{'int8/fp32 ' + runtime:28s}" + "".join(
                    f" {'-' if cpu not in ratios else f'{ratios[cpu]:.2f}x':>20s}" for cpu in cpus))
    lines.append("")
    lines += [f"{cpu} (-cpu {d['qemu_cpu']}): {d['class']}, MIDR {d['midr']}, {' '.join(d['isa'])}; {d['stands_for']}"
              for cpu, d in report.cpus.items()]
    problems = {c.problem for c in report.checks if c.status == NOT_RUN}
    lines += [f"{NOT_RUN}: {p}" for p in sorted(problems) if p]
    lines += [f"FAIL {c.file} on {c.cpu}: {c.problem}" for c in report.failed()]
    return "\n".join(lines)


def _parity_cell(check: Arm64Check) -> str:
    if check.parity is None:
        return check.status
    return f"{'ok' if check.status == 'ok' else 'FAIL'} {check.parity.cosine:.6f}"


def _packages() -> dict[str, Any]:
    """fitedge's top packages as imported here: the child maps the same folders (setup.cfg's package_dir)."""
    # ``import fitedge.edge`` binds the root package too: only its folder is wanted here, not the facade.
    # fitedge.quantize: the backends name their calibration methods from it (quantize/observers.py, numpy only).
    import fitedge.edge
    import fitedge.quantize

    return {"fitedge": fitedge, "fitedge.edge": fitedge.edge, "fitedge.quantize": fitedge.quantize}


def _emulator_version(qemu: str) -> str:
    out = subprocess.run([qemu, "--version"], capture_output=True, text=True).stdout.splitlines()
    return out[0].strip() if out else "qemu-aarch64"
