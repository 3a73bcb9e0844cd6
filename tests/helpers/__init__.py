"""Helpers shared by the tests: plain functions and constants, imported as a normal module.

``from tests.helpers.cli import run_cli``: ``tests`` and its folders are packages, so this works from any test
file at any depth. Fixtures are not here but in the ``conftest.py`` of the narrowest folder that uses them.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
"""The repository root (``tests/helpers/__init__.py`` is two folders below it)."""

FITEDGE = [sys.executable, "-m", "fitedge.cli"]
"""The ``fitedge`` command line in a child process of this Python."""
