"""Run one benchmark cell in its own process, with a timeout, and take that process's peak memory.

Peak memory is the child's own ``VmHWM`` (from ``/proc/self/status``), which starts afresh at ``exec``. The
``ru_maxrss`` that ``wait4`` reports is not used: Linux carries the parent's resident size into it at fork and
exec, so every child would seem at least as big as the parent. When the child dies, the last progress note it
wrote (see :mod:`fitedge.bench.host.worker`) says in which phase, and its peak memory until then. A hang is killed
after ``timeout_s`` and recorded, never waited on forever.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from fitedge.bench.host.worker import progress_path

log = logging.getLogger(__name__)

POLL_S = 0.05


def _wait(proc: subprocess.Popen, timeout_s: float) -> int | None:
    """Reap ``proc``; return its exit code (negative: killed by that signal), or None when it timed out."""
    try:
        return proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the child leads its own session: its helpers die with it
        proc.wait()
        return None


def _failure(code: int | None, timeout_s: float, phase: str | None, stderr_tail: str) -> str:
    """One line saying how the child ended badly."""
    if code is None:
        how = f"timed out after {timeout_s:.0f} s (killed)"
    else:
        how = f"crashed with {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
    where = f" during {phase}" if phase else ""
    return f"{how}{where}: {stderr_tail}" if stderr_tail and code is not None else f"{how}{where}"


def _read(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def run_isolated(spec: dict, timeout_s: float) -> dict:
    """Run ``spec`` in ``python -m fitedge.bench.host.worker``; the child's result, or ``{"error": ...}`` plus the
    memory it had reached. Never raises for the child's sake: a crash, hang or Python error is a result."""
    with tempfile.TemporaryDirectory(prefix="fitedge-cell-") as tmp:
        spec_path, out_path, err_path = Path(tmp, "spec.json"), Path(tmp, "out.json"), Path(tmp, "stderr.txt")
        spec_path.write_text(json.dumps(spec))
        env = {**os.environ, "OMP_NUM_THREADS": str(spec["threads"])}
        with open(err_path, "wb") as err:
            worker = [sys.executable, "-m", "fitedge.bench.host.worker", str(spec_path), str(out_path)]
            proc = subprocess.Popen(worker, stdout=subprocess.DEVNULL, stderr=err, env=env, start_new_session=True)
            code = _wait(proc, timeout_s)
        result, progress = _read(out_path), _read(progress_path(out_path))
        stderr_tail = _last_line(err_path.read_text(errors="replace"))
    if code is None or not result:
        result = {"error": _failure(code, timeout_s, progress.get("phase"), stderr_tail),
                  "peak_rss_kb": progress.get("peak_rss_kb"), "baseline_rss_kb": progress.get("baseline_rss_kb")}
    if result.get("error"):
        log.warning("%s: %s", spec.get("path") or spec.get("source") or "eager", result["error"])
    return result


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""
