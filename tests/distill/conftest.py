"""Fixtures of the distill tests (models and checkpoints): the in-process command-line runner."""

from __future__ import annotations

import pytest
from click.testing import CliRunner


@pytest.fixture(scope="module")
def runner():
    return CliRunner()
