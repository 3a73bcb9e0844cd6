"""Hugging Face ids: a model in a (fake, local) hub cache loads by ``ORG/NAME`` and ``ORG/NAME@REVISION``.

The cache is built here in huggingface_hub's own layout (``models--ORG--NAME/snapshots/<commit>``, ``refs/``);
every command runs in a child process with ``HF_HUB_OFFLINE=1`` and ``HF_HUB_CACHE`` pointing at it, so
nothing can download, and huggingface_hub reads its settings fresh.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import FITEDGE
from tests.helpers.foundation_models import hf_model

REPO_ID = "acme/hubert-tiny"
MAIN, OLD = "a" * 40, "b" * 40  # two commits of the repo: main has 32-dim, the old one 48-dim hidden states


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("hub")
    repo = cache / "models--acme--hubert-tiny"
    for commit, size in ((MAIN, 32), (OLD, 48)):
        hf_model("hubert-postln", seed=1, hidden_size=size).save_pretrained(repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(MAIN)
    (repo / "refs" / "v0").write_text(OLD)
    return cache


def fitedge(hub: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_CACHE": str(hub), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([*FITEDGE, *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_an_id_and_its_revisions_load_from_the_cache(hub: Path) -> None:
    dims = {}
    for source in (REPO_ID, f"{REPO_ID}@v0", f"{REPO_ID}@{OLD}"):
        result = fitedge(hub, "info", source, "--json")
        assert result.returncode == 0, result.stderr
        dims[source] = json.loads(result.stdout)["models"][0]["config"]["dim"]
    assert dims == {REPO_ID: 32, f"{REPO_ID}@v0": 48, f"{REPO_ID}@{OLD}": 48}


def test_import_by_id_writes_a_fitedge_folder(hub: Path, tmp_path: Path) -> None:
    result = fitedge(hub, "import", REPO_ID, "--out", str(tmp_path / "teacher"))
    assert result.returncode == 0, result.stderr
    config = json.loads((tmp_path / "teacher" / "config.json").read_text())
    assert config["encoder"]["dim"] == 32 and config["imported_source"] == REPO_ID


def test_an_id_missing_from_the_offline_cache_is_one_line(hub: Path, tmp_path: Path) -> None:
    result = fitedge(hub, "import", "acme/not-cached", "--out", str(tmp_path / "x"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "Error: acme/not-cached: not in the Hugging Face cache and the hub cannot be reached (HF_HUB_OFFLINE=1 or "
        "no network); download it where the hub is reachable, or pass a local folder"]
