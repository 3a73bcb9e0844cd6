"""Run one benchmark cell in its own process, with a timeout, and measure that process's peak memory.

The parent collects the child with :func:`os.wait4`, whose rusage is that one child's own ``ru_maxrss``, so
peak resident memory is known even when the runtime crashed; ``/proc/self/status`` VmHWM reported by the
child is used when it finishes. A hang is killed after ``timeout_s`` and recorded, never waited on forever.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

POLL_S = 0.05


def _wait(proc: subprocess.Popen, timeout_s: float) -> tuple[int | None, int]:
    """Reap ``proc``; return (wait status or None on timeout, its peak RSS in kB)."""
    deadline = time.monotonic() + timeout_s
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return status, int(usage.ru_maxrss)
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)  # the child leads its own session: its helpers die with it
            _, _, usage = os.wait4(proc.pid, 0)
            proc.returncode = -signal.SIGKILL
            return None, int(usage.ru_maxrss)
        time.sleep(POLL_S)


def _failure(status: int | None, timeout_s: float, stderr_tail: str) -> str:
    """One line saying how the child ended badly."""
    if status is None:
        return f"timed out after {timeout_s:.0f} s (killed)"
    code = os.waitstatus_to_exitcode(status)
    how = f"crashed with {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
    return f"{how}: {stderr_tail}" if stderr_tail else how


def run_isolated(spec: dict, timeout_s: float) -> dict:
    """Run ``spec`` in ``python -m fitedge.bench.worker``; the child's result plus ``peak_rss_kb``/``error``.

    Never raises for the child's sake: a crash, hang or Python error becomes ``{"error": "..."}``.
    """
    with tempfile.TemporaryDirectory(prefix="fitedge-cell-") as tmp:
        spec_path, out_path, err_path = Path(tmp, "spec.json"), Path(tmp, "out.json"), Path(tmp, "stderr.txt")
        spec_path.write_text(json.dumps(spec))
        env = {**os.environ, "OMP_NUM_THREADS": str(spec["threads"])}
        with open(err_path, "wb") as err:
            proc = subprocess.Popen([sys.executable, "-m", "fitedge.bench.worker", str(spec_path), str(out_path)],
                                    stdout=subprocess.DEVNULL, stderr=err, env=env, start_new_session=True)
            status, rusage_kb = _wait(proc, timeout_s)
        stderr_tail = _last_line(err_path.read_text(errors="replace"))
        result = json.loads(out_path.read_text()) if out_path.exists() else {}
    if status is None or not result:
        result = {"error": _failure(status, timeout_s, stderr_tail)}
    result["peak_rss_kb"] = max(result.get("peak_rss_kb") or 0, rusage_kb)
    if result.get("error"):
        log.warning("%s: %s", spec.get("path") or spec.get("source") or "eager", result["error"])
    return result


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""
