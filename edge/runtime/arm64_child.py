"""Runs a bundle's artifacts in the emulated arm64 Python and writes their parity as JSON (no torch needed).

Started by :func:`fitedge.edge.runtime.arm64.run_on_cpu` as ``python3 -s arm64_child.py JOB.json``, with only
the aarch64 wheels on ``sys.path``. The job names the bundle, the artifact files, and the folders of
fitedge's own packages on the host, which this script maps so that each artifact runs through the same
:func:`fitedge.edge.runtime.load` as on x86-64, with one thread. The answer (``job["answer"]``) holds the
CPU as its kernel tells it, and per artifact the parity against the bundle's golden output or the error.

When ``job["count"]`` is set, the process runs under the instruction-counting plugin: each artifact runs
once more after the measured run (the first one also loads weights and packs them), between two marks.
"""

from __future__ import annotations

import ctypes
import importlib.abc
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

FITEDGE_MARK = 0xFE17  # the system call the plugin (arm64_insn.c) watches for


class _FitedgePackages(importlib.abc.MetaPathFinder):
    """Finds fitedge's packages in the host's source folders (setup.cfg maps them, the host's install knows)."""

    def __init__(self, folders: dict[str, str]) -> None:
        self.folders = folders

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name not in self.folders:
            return None
        init = Path(self.folders[name]) / "__init__.py"
        return importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(init.parent)])


def _mark(tag: int) -> None:
    ctypes.CDLL(None).syscall(FITEDGE_MARK, ctypes.c_long(tag))


def main(job_file: str) -> None:
    job = json.loads(Path(job_file).read_text())
    sys.meta_path.insert(0, _FitedgePackages(job["packages"]))
    from fitedge.edge import runtime
    from fitedge.edge.bundle import manifest as mf
    from fitedge.edge.bundle.folder import read_golden
    from fitedge.edge.runtime.arm64_cpu import read_cpu
    from fitedge.errors import FitedgeError, one_line
    from fitedge.parity import compare_outputs

    folder = Path(job["bundle"])
    mf.VALIDATE_ON_READ = False  # no jsonschema in this environment; verify_bundle_arm64 validated the bundle
    wav, golden = read_golden(folder, mf.Manifest.read(folder))
    results = []
    for tag, name in enumerate(job["artifacts"], start=1):
        try:
            runner = runtime.load(folder / name, threads=1)
            result = {"file": name, "parity": compare_outputs(golden, runner.run(wav)).to_dict()}
            if job["count"]:
                _mark(0)
                runner.run(wav)
                _mark(tag)
                result["mark"] = tag
        except Exception as e:  # whatever one runtime raises is that artifact's verdict, not the end of the run
            result = {"file": name, "error": one_line(e) if isinstance(e, FitedgeError) else
                      f"{type(e).__name__}: {one_line(e)}"}
        results.append(result)
    Path(job["answer"]).write_text(json.dumps({"cpu": read_cpu(), "artifacts": results}))


if __name__ == "__main__":
    main(sys.argv[1])
