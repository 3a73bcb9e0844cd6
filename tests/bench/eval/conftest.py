"""Fixtures of the evaluation tests: the tiny espeak-ng corpus, built once per test module."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.corpus import tiny_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_corpus(tmp_path_factory.mktemp("eval") / "corpus")
