"""The package layout: subpackages depend on each other one way, and every module says what it is.

Imports are read from the source (``ast``), lazy ones inside functions included, since a lazy import is a
dependency too. A subpackage is a module's package (``fitedge.distill.models``); the root's own modules
(errors, console, host) form ``fitedge``, and ``fitedge/__init__.py`` (the ``fitedge.load`` facade) is
its own node, so that the facade may reach down while everything else may use the root's leaves.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO

FOLDERS = {"fitedge": "fitedge", "distill": "fitedge.distill", "quantize": "fitedge.quantize",
           "edge": "fitedge.edge", "bench": "fitedge.bench"}
FACADE = "fitedge (facade)"


def modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    found = {}
    for folder, package in FOLDERS.items():
        for path in (REPO / folder).rglob("*.py"):
            parts = path.relative_to(REPO / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


def node(module: str, known: dict[str, Path]) -> str:
    """The subpackage a module belongs to (a package's ``__init__`` belongs to the package itself)."""
    if module == "fitedge":
        return FACADE
    is_package = known[module].name == "__init__.py"
    return module if is_package else module.rsplit(".", 1)[0]


def imported(path: Path, known: dict[str, Path]) -> set[str]:
    """The fitedge modules ``path`` imports (``from a.b import c`` counts ``a.b.c`` when that is a module)."""
    names = set()
    for item in ast.walk(ast.parse(path.read_text())):
        if isinstance(item, ast.Import):
            names.update(alias.name for alias in item.names)
        elif isinstance(item, ast.ImportFrom) and item.module and item.level == 0:
            submodules = {f"{item.module}.{alias.name}" for alias in item.names} & set(known)
            names.update(submodules)
            if len(submodules) < len(item.names):  # names defined by the package itself
                names.add(item.module)
    return {n for n in names if n in known}


def top_level(module: str, known: dict[str, Path]) -> str:
    """The top-level package a module belongs to: ``fitedge.edge``, ``fitedge.cli``, or the root's leaves."""
    parts = node(module, known).split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else parts[0]


def dependency_graph(level=node) -> dict[str, set[str]]:
    """Which node imports which: subpackages (``node``) or top-level packages (``top_level``)."""
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        source = level(name, known)
        for target in imported(path, known):
            target_node = level(target, known)
            if target_node != source:
                graph.setdefault(source, set()).add(target_node)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one subpackage (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(set(graph) | {w for ws in graph.values() for w in ws}):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_between_subpackages() -> None:
    assert cycles(dependency_graph()) == []


def test_no_import_cycle_between_top_level_packages() -> None:
    assert cycles(dependency_graph(top_level)) == []


def test_nothing_imports_the_cli() -> None:
    """The command line sits above the library: it parses and prints, and no library module reaches up to it."""
    users = {source for source, targets in dependency_graph(top_level).items() if "fitedge.cli" in targets}
    assert users == set()


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_module_starts_with_a_docstring() -> None:
    missing = [name for name, path in modules().items() if not ast.get_docstring(ast.parse(path.read_text()))]
    assert missing == []
