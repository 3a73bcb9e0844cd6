"""Packaging: the core and each pip extra cover what their modules import, the locks agree with the inputs,
and a missing optional part is one line that names its extra.

Imports are read from the source (``ast``, lazy imports inside functions included) and mapped to
distributions through the installed packages' metadata. An environment without a part is simulated by a
meta-path filter that hides its modules from a child process.
"""

from __future__ import annotations

import ast
import configparser
import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import pytest

from fitedge.edge.backends import BACKENDS
from fitedge.extras import EXTRAS
from tests.helpers.hidden import fitedge_without

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("fitedge", "distill", "quantize", "edge", "bench")
# Which extras a module may need besides the core, by path prefix (the longest matching prefix wins).
RUNTIMES = ("torch", "onnx", "onnx-export", "executorch", "litert", "litert-export")
PARTS = {
    "fitedge/": (),
    "fitedge/cli/": (),
    "fitedge/cli/data.py": ("data",),
    "fitedge/cli/train.py": ("train",),
    "fitedge/cli/bench.py": ("bench",),
    "fitedge/threads.py": ("torch",),  # PyTorch's thread count, set only where torch already runs
    "distill/": ("torch",),
    "distill/data/": ("data", "train", "bench"),  # mfcc.py: pre-training targets (train), the PER floor (bench)
    "distill/train/": ("train",),
    "quantize/": ("torch",),
    "quantize/pt2e.py": ("executorch", "litert-export"),
    "quantize/onnx_recipe.py": ("onnx-export",),
    "quantize/onnx_rows.py": ("onnx-export",),
    "edge/": (),
    "edge/lower/": ("torch",),
    "edge/lower/onnx.py": ("onnx-export",),
    "edge/lower/executorch.py": ("executorch",),
    "edge/lower/litert.py": ("litert-export",),
    "edge/lower/litert_rows.py": ("litert-export",),
    "edge/runtime/": RUNTIMES,
    "edge/backends/": RUNTIMES,
    "edge/export/": RUNTIMES,
    "edge/bundle/": (),
    "bench/": ("bench", *RUNTIMES),
    "bench/endtoend/": tuple(EXTRAS),
}
ALTERNATIVES = {"tflite_runtime"}  # tried only when ai_edge_litert is missing, never required
PINNED = {"torch": "2.13.0", "executorch": "1.4.1", "torchao": "0.18.0", "litert-torch": "0.10.0",
          "ai-edge-litert": "2.3.0", "onnx": "1.23.2", "onnxscript": "0.7.2", "onnxruntime": "1.32.0"}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(line: str) -> str:
    return normalize(re.match(r"[A-Za-z0-9_.\-]+", line.strip()).group(0))


def setup_cfg() -> tuple[set[str], dict[str, set[str]]]:
    """install_requires and each extra, as normalized distribution names."""
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")

    def names(value: str) -> set[str]:
        return {requirement_name(line) for line in value.splitlines() if line.strip() and not line.startswith("#")}

    core = names(cfg["options"]["install_requires"])
    extras = {name: names(value) for name, value in cfg["options.extras_require"].items()}
    return core, extras


def module_distributions() -> dict[str, set[str]]:
    return {module: {normalize(d) for d in dists} for module, dists in metadata.packages_distributions().items()}


def third_party_imports(path: Path) -> set[str]:
    found = set()
    for item in ast.walk(ast.parse(path.read_text())):
        if isinstance(item, ast.Import):
            found.update(alias.name.split(".")[0] for alias in item.names)
        elif isinstance(item, ast.ImportFrom) and item.level == 0 and item.module:
            found.add(item.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "fitedge"}


def part_of(relative: str) -> tuple[str, ...]:
    prefix = max((p for p in PARTS if relative.startswith(p)), key=len)
    return PARTS[prefix]


def test_extras_are_the_documented_parts_and_all_is_their_union():
    core, extras = setup_cfg()
    assert set(extras) == {*EXTRAS, "all"}
    assert extras["all"] == set().union(*(names for name, names in extras.items() if name != "all"))
    assert not core & extras["all"], "a core package listed in an extra"


def test_setup_cfg_extras_provide_the_modules_fitedge_extras_names():
    """setup.cfg (distributions) and fitedge.extras (import names, for the error message) say the same."""
    _, extras = setup_cfg()
    provided = module_distributions()
    for name, extra in EXTRAS.items():
        for module in extra.modules:
            assert provided.get(module, set()) & extras[name], f"[{name}] lacks the distribution of {module}"
        # each distribution of the extra is there for an import of it (onnxscript: torch.onnx's exporter)
        dists = {d for m in extra.modules for d in provided.get(m, set())}
        assert extras[name] <= dists, f"[{name}] lists {extras[name] - dists}, which no module of it imports"


def test_every_import_is_in_the_core_or_in_an_extra_of_its_part():
    core, extras = setup_cfg()
    provided = module_distributions()
    problems = []
    for folder in FOLDERS:
        for path in sorted((REPO / folder).rglob("*.py")):
            relative = path.relative_to(REPO).as_posix()
            allowed = core.union(*(extras[e] for e in part_of(relative)))
            for module in third_party_imports(path) - ALTERNATIVES:
                dists = provided.get(module, set())
                if not dists & allowed:
                    problems.append(f"{relative}: {module} ({', '.join(sorted(dists)) or 'not installed'})")
    assert not problems, "imports not covered by setup.cfg:\n" + "\n".join(problems)


def test_core_imports_nothing_optional():
    """``import fitedge``, the manifest and the records: only install_requires (no torch). The modules that PARTS
    gives extras (the model, the exporters, the commands) are checked against those by the test above."""
    core, _ = setup_cfg()
    provided = module_distributions()
    for folder in ("fitedge", "edge/bundle"):
        for path in (REPO / folder).rglob("*.py"):
            relative = path.relative_to(REPO).as_posix()
            if part_of(relative):
                continue
            for module in third_party_imports(path):
                assert provided.get(module, set()) & core, f"{relative}: {module} is not core"


def lock(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"([A-Za-z0-9_.\-]+)==([^\s;\\]+)", line)
        if match:
            pins[normalize(match.group(1))] = match.group(2)
    return pins


def test_requirements_in_is_setup_cfg_and_the_locks_keep_the_pinned_stack():
    core, extras = setup_cfg()
    wanted = {requirement_name(line) for line in (REPO / "requirements.in").read_text().splitlines()
              if line.strip() and not line.startswith(("#", "-"))}
    assert wanted == core | extras["all"]
    runtime, dev = lock(REPO / "requirements.lock"), lock(REPO / "requirements-dev.lock")
    assert wanted <= set(runtime)
    assert {name: runtime[name] for name in PINNED} == PINNED
    assert runtime["numpy"].startswith("2.4.")
    assert {name: dev[name] for name in runtime} == runtime, "the dev lock moved a runtime version"
    assert {"pytest", "ruff"} <= set(dev) - set(runtime), "dev tools belong in requirements-dev.lock only"
    assert "--hash=sha256:" in (REPO / "requirements.lock").read_text()


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.mark.parametrize("target", BACKENDS.targets)
def test_export_without_its_runtime_names_the_extra_before_any_work(tmp_path, target):
    extra = BACKENDS.for_target(target).extra
    result = fitedge_without(list(EXTRAS[extra].modules), "export", "tiny", "--targets", target, "--out",
                             str(tmp_path / "b"), cwd=tmp_path)
    line = one_error_line(result)
    assert f'pip install "fitedge[{extra}]"' in line
    assert "model tiny" not in result.stderr + result.stdout  # refused before loading anything
    assert not (tmp_path / "b").exists()


def test_other_commands_name_their_own_extra(tmp_path):
    result = fitedge_without(["tqdm"], "data", "synth", "--out", str(tmp_path / "c"), "--minutes", "0.1",
                             cwd=tmp_path)
    assert one_error_line(result) == 'Error: fitedge data: tqdm is not installed: pip install "fitedge[data]"'


@pytest.mark.slow
def test_onnx_only_export_screens_int8_with_the_onnx_recipe(tmp_path):
    """Only fitedge[onnx-export]: the default export (int8 auto) works, screened with ONNX Runtime's own recipe."""
    hidden = ["executorch", "torchao", "litert_torch", "ai_edge_litert", "tflite_runtime"]
    result = fitedge_without(hidden, "export", "tiny", "--targets", "onnx", "--precision", "int8", "--timing-runs",
                             "0", "--out", str(tmp_path / "b"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    doc = json.loads((tmp_path / "b" / "manifest.json").read_text())
    policy = doc["int8_policy"]
    assert policy["mode"] == "auto"
    assert "screened with ONNX Runtime's int8 recipe" in policy["reason"]
    assert {row["block"] for row in policy["sensitivity"]} >= {"feature_extractor.conv_layers.0", "encoder.layers"}
    assert all(0.9 < row["cosine"] <= 1.0 for row in policy["sensitivity"])
    assert [a["file"] for a in doc["artifacts"]] == ["tiny_int8.onnx"]
    assert doc["artifacts"][0]["parity"]["passed"]


def test_auto_without_any_screening_recipe_says_so(monkeypatch):
    from fitedge.quantize.auto import screening

    monkeypatch.setattr(screening, "screening_recipe", lambda: None)
    plan = screening.first_plan("auto", (), SimpleNamespace(name="tiny"), None, None, lambda line: None)
    assert (plan.mode, plan.keep_float) == ("auto", ())
    assert plan.reason.startswith("not screened") and 'fitedge[onnx-export]' in plan.reason


TORCH_STACK = ["torch", "executorch", "torchao", "litert_torch", "onnxscript"]


@pytest.fixture(scope="module")
def three_runtime_bundle(tmp_path_factory) -> Path:
    """A tiny bundle with a .pte, a .tflite and an .onnx, exported here (with torch) for the torch-free runs."""
    import fitedge

    out = tmp_path_factory.mktemp("torchfree") / "bundle"
    fitedge.export("tiny", out, targets=("pte", "tflite", "onnx"), precisions=("fp32",), seconds=0.5,
                   timing_runs=0)
    return out


def test_verify_runs_a_bundle_without_torch_and_skips_its_pte(tmp_path, three_runtime_bundle):
    result = fitedge_without(TORCH_STACK, "verify", str(three_runtime_bundle), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines[1:]] == [
        ["skip", "tiny_fp32.pte"], ["ok", "tiny_fp32.tflite"], ["ok", "tiny_fp32.onnx"]]
    assert lines[1].endswith('pip install "fitedge[executorch]"')
    assert "Traceback" not in result.stderr


def test_bench_run_times_a_bundle_without_torch_and_skips_pte_and_eager(tmp_path, three_runtime_bundle):
    """The bench workers are child processes: the modules are hidden there too (sitecustomize)."""
    result = fitedge_without(TORCH_STACK, "bench", "run", str(three_runtime_bundle), "--iters", "2", "--warmup",
                             "0", "--processes", "1", "--seconds", "0.5", "--threads", "1", "--json", "--out",
                             str(tmp_path / "results"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    runs = {run["artifact"]: run for run in json.loads(result.stdout)["runs"]}
    assert {name: run["status"] for name, run in runs.items()} == {
        "eager": "skipped", "tiny_fp32.pte": "skipped", "tiny_fp32.tflite": "ok", "tiny_fp32.onnx": "ok"}
    assert runs["tiny_fp32.pte"]["error"].endswith('pip install "fitedge[executorch]"')
    assert runs["eager"]["error"].endswith('pip install "fitedge[torch]"')
    assert len(runs["tiny_fp32.onnx"]["timings_ms"]) == 2


def test_export_without_torch_names_the_export_extra(tmp_path):
    result = fitedge_without(["torch"], "export", "tiny", "--targets", "onnx", "--out", str(tmp_path / "b"),
                             cwd=tmp_path)
    assert one_error_line(result) == 'Error: ONNX export (.onnx) needs torch: pip install "fitedge[onnx-export]"'
    result = fitedge_without(["torch"], "info", "tiny", cwd=tmp_path)
    assert one_error_line(result) == 'Error: fitedge info: torch is not installed: pip install "fitedge[torch]"'
