"""``fitedge`` in a child process where some modules cannot be imported, as in an install without them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

# Installed as sitecustomize in every Python process of the test (the bench worker's children too): the modules
# named in FITEDGE_TEST_HIDDEN cannot be imported, as in an install without them.
HIDE = """
import os
import sys
HIDDEN = set(os.environ["FITEDGE_TEST_HIDDEN"].split(","))
class Hide:
    def __init__(self, inner):
        self.inner = inner
    def find_spec(self, name, path=None, target=None):
        return None if name.split(".")[0] in HIDDEN else self.inner.find_spec(name, path, target)
    def __getattr__(self, attribute):
        return getattr(self.inner, attribute)
sys.meta_path[:] = [Hide(f) if hasattr(f, "find_spec") else f for f in sys.meta_path]
"""


def fitedge_without(hidden: list[str], *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``fitedge ARGS`` in a child process, and every process it starts, where the modules ``hidden`` cannot be
    imported."""
    site = cwd / "hide"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(textwrap.dedent(HIDE))
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "FITEDGE_TEST_HIDDEN": ",".join(hidden),
           "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "fitedge.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
