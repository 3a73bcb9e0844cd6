"""The bundle folder on disk: written whole or not at all, golden files, the human-readable report, the app copy.

A bundle is assembled in a hidden temporary folder beside its destination and renamed into place only once
every artifact has passed its checks, so an interrupted or failed export leaves nothing behind.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from fitedge.edge.bundle import manifest as mf
from fitedge.errors import BundleError
from fitedge.files import atomic_folder, write_text

log = logging.getLogger(__name__)
GOLDEN_DIR = "golden"
REPORT_FILE = "report.md"


class BundleWriter:
    """``with BundleWriter(out, force) as tmp:`` fill ``tmp``; on success it becomes ``out``, on error it vanishes."""

    def __init__(self, out: str | Path, force: bool = False) -> None:
        self.out = Path(out)
        self.force = force
        check_destination(self.out, force)

    def __enter__(self) -> Path:
        self._writing = atomic_folder(self.out)
        return self._writing.__enter__()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool | None:
        return self._writing.__exit__(exc_type, exc, tb)


def check_destination(out: Path, force: bool) -> None:
    """Refuse to overwrite anything but an existing bundle, and that only with ``force``."""
    if not out.exists():
        return
    if not force:
        raise BundleError(f"{out} exists; pass --force to replace it")
    if not out.is_dir() or (any(out.iterdir()) and not (out / mf.MANIFEST_FILE).is_file()):
        raise BundleError(f"{out} exists and is not a fitedge bundle; refusing to replace it even with --force")


def write_array(folder: Path, stem: str, array: np.ndarray) -> mf.GoldenFile:
    """``stem.npy`` and ``stem.bin`` (raw little-endian float32, C order) under ``golden/``; their manifest entry."""
    golden = folder / GOLDEN_DIR
    golden.mkdir(exist_ok=True)
    data = np.ascontiguousarray(array, dtype="<f4")
    np.save(golden / f"{stem}.npy", data)
    raw = data.tobytes(order="C")
    (golden / f"{stem}.bin").write_bytes(raw)
    return mf.GoldenFile(f"{GOLDEN_DIR}/{stem}.npy", f"{GOLDEN_DIR}/{stem}.bin", list(data.shape),
                         mf.sha256_bytes(raw))


def write_golden(folder: Path, wav: np.ndarray, outputs: dict[str, np.ndarray]) -> mf.Golden:
    """The golden input and eager outputs; returns the manifest's ``golden`` section."""
    return mf.Golden(write_array(folder, "input", wav),
                     {name: write_array(folder, name, value) for name, value in outputs.items()})


def read_golden(folder: Path, manifest: mf.Manifest) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The golden input and outputs of a bundle, their sha256 checked against the manifest."""
    entries = {"input": manifest.golden.input, **manifest.golden.outputs}  # the schema requires both
    arrays = {}
    for name, entry in entries.items():
        path = folder / entry.bin
        if not path.is_file():
            raise BundleError(f"{path}: golden file missing")
        raw = path.read_bytes()
        if mf.sha256_bytes(raw) != entry.sha256:
            raise BundleError(f"{path}: sha256 differs from the manifest (file changed or corrupted)")
        arrays[name] = np.frombuffer(raw, dtype="<f4").reshape(entry.shape).astype(np.float32)
    wav = arrays.pop("input")
    return wav, arrays


def write_bundle_report(folder: Path, manifest: mf.Manifest) -> Path:
    """``report.md``: one table a person can read."""
    return write_text(folder / REPORT_FILE, report_markdown(manifest.to_dict()))


def report_markdown(doc: dict[str, Any]) -> str:
    model, audio = doc["model"], doc["audio"]
    trained = "trained" if model["trained"] else "UNTRAINED (random weights)"
    length = f"{audio['input_samples'] / audio['sample_rate']:g} s"
    if audio["dynamic"]:
        length += f" (dynamic {audio['min_samples']}..{audio['max_samples']} samples where supported)"
    outputs = ", ".join(f"`{o['name']}` {o['shape']}" for o in doc["outputs"])
    lines = [
        f"# fitedge bundle: {model['name']}",
        "",
        f"- model: `{model['source']}`, {trained}, {model['parameters']:,} parameters",
        f"- input: `{audio['input_name']}` float32 [1, samples] at {audio['sample_rate']} Hz, {length}",
        f"- outputs: {outputs}",
        f"- calibration: {(doc.get('calibration') or {}).get('source', 'none (no int8 artifact)')}",
        "",
        "| artifact | runtime | precision | recipe | size | cosine | max abs diff | SNR dB | latency ms | vs fastest |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [_report_row(a) for a in doc["artifacts"]]
    lines += _int8_lines(doc)
    timing = doc.get("timing") or {}
    lines += ["", f"Parity: float32 against eager PyTorch on the golden input; int8 against float on held-out "
                  f"speech. Latency: median of {timing.get('runs', '?')} runs, {timing.get('threads', '?')} threads, "
                  f"same process, on this machine (`fitedge bench` measures properly).", ""]
    if doc.get("arm64"):
        lines += _arm64_section(doc)
    return "\n".join(lines)


def _int8_lines(doc: dict[str, Any]) -> list[str]:
    """What int8 kept float in each artifact, and why (``--int8 auto``, ``plain`` or ``--keep-float``)."""
    int8 = [a for a in doc["artifacts"] if a["precision"] == "int8"]
    if not int8:
        return []
    policy = doc.get("int8_policy") or {}
    lines = ["", f"int8 ({policy.get('mode', 'plain')}): {policy.get('reason', '')}."]
    for a in int8:
        kept = ", ".join(a.get("keep_float") or []) or "nothing"
        plan = a.get("int8_policy") or {}
        why = plan.get("reason", "")
        widened = f" ({why.split('; ', 1)[1]})" if "; " in why else ""
        cost = plan.get("float_cost_ms")
        costs = "" if cost is None else f"; expected to cost {cost:.2f} ms over plain int8 (blocks timed alone)"
        decisions = a["parity"].get("decisions")
        head = "" if decisions is None else f"; its head picks fp32's token on {decisions:.1%} of held-out frames"
        lines.append(f"- {a['file']}: float kept for {kept}{widened}{costs}{head}")
    return lines


def _arm64_section(doc: dict[str, Any]) -> list[str]:
    """The table ``fitedge verify --arch arm64 --record`` adds: parity and instructions per emulated CPU class."""
    arm64 = doc["arm64"]
    cpus = list(arm64["cpus"])
    lines = [f"## arm64, emulated ({arm64['emulator']}, {arm64['verified']})", "",
             "Each cell: verdict, cosine, millions of instructions per inference (a count, not a time).", "",
             "| artifact | " + " | ".join(cpus) + " |", "|---|" + "---:|" * len(cpus)]
    for a in doc["artifacts"]:
        cells = []
        for cpu in cpus:
            r = a.get("parity_arm64", {}).get(cpu, {})
            parity, count = r.get("parity"), r.get("instructions")
            cells.append(" ".join([r.get("status", "-")] + ([f"{parity['cosine']:.6f}"] if parity else []) +
                                  ([f"{count / 1e6:.1f}M"] if count else [])))
        lines.append(f"| {a['file']} | " + " | ".join(cells) + " |")
    lines += [""] + [f"- {cpu} (`-cpu {c['qemu_cpu']}`): {c['class']}, {' '.join(c['isa'])}; {c['stands_for']}"
                     for cpu, c in arm64["cpus"].items()] + [""]
    return lines


def _report_row(a: dict[str, Any]) -> str:
    p = a["parity"]
    ratio = a.get("latency_vs_fastest")
    latency = "-" if a.get("latency_ms") is None else f"{a['latency_ms']:.1f}"
    return (f"| {a['file']} | {a['runtime']} | {a['precision']} | {a['recipe']} | {a['bytes'] / 1e6:.2f} MB | "
            f"{p['cosine']:.6f} | {p['max_abs_diff']:.2e} | {p['snr_db']:.1f} | {latency} | "
            f"{'-' if ratio is None else f'{ratio:.2f}x'} |")


def copy_to_android(bundle: Path, assets_dir: str | Path) -> Path:
    """Copy the finished bundle to ``assets_dir`` (the demo app's assets folder for it), atomically.

    ETRecords stay behind: they are for ExecuTorch's host-side Inspector, and several times a model's size.
    """
    dest = Path(assets_dir)
    check_destination(dest, force=True)  # replaces an older copied bundle, never unrelated files
    with atomic_folder(dest) as tmp:
        shutil.copytree(bundle, tmp, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.etrecord"))
    return dest
