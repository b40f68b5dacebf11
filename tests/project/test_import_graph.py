"""The import graph of the apps and the bench: no circle, no upward import.

Every module is parsed with ``ast``, so imports inside functions count as much as
those at the top: a late import hides a circle from Python, not from a reader.
String references (``include("ibl_credentials.urls")``, dotted paths in settings)
are not imports and are not followed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ibl_core", "ibl_catalog", "ibl_credentials", "bench")

# Which top-level packages each package may import. An app never imports one
# above it or beside it; the bench sits on top and may import them all.
ALLOWED = {
    "ibl_core": {"ibl_core"},
    "ibl_catalog": {"ibl_core", "ibl_catalog"},
    "ibl_credentials": {"ibl_core", "ibl_credentials"},
    "bench": set(PACKAGES),
}


def module_files() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imported_names(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """Yield (dotted name, line) for every import in the module, at any depth."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield target, node.lineno
            # ``from package import module`` imports the submodule too.
            for alias in node.names:
                yield f"{target}.{alias.name}", node.lineno


def resolve(target: str, modules: dict[str, Path]) -> str | None:
    """The longest known module that ``target`` names, or None if it is outside."""
    while target:
        if target in modules:
            return target
        target = target.rpartition(".")[0]
    return None


def import_graph() -> dict[str, dict[str, int]]:
    modules = module_files()
    graph: dict[str, dict[str, int]] = {name: {} for name in modules}
    for name, path in modules.items():
        for target, line in imported_names(name, path):
            found = resolve(target, modules)
            if found is None or found == name:
                continue
            graph[name].setdefault(found, line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph[node]:
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def describe(component: list[str], graph: dict[str, dict[str, int]]) -> str:
    members = set(component)
    edges = [
        f"    {source} -> {target} (line {line})"
        for source in component
        for target, line in sorted(graph[source].items())
        if target in members
    ]
    return "  circle: " + ", ".join(component) + "\n" + "\n".join(edges)


def test_the_graph_sees_late_and_relative_imports(tmp_path: Path) -> None:
    path = tmp_path / "views.py"
    path.write_text(
        "from .base import Kind\n"
        "from . import group_views\n"
        "def f():\n"
        "    from ..models import Thing\n"
        "    import ibl_core.sql\n"
        'include("ibl_credentials.urls")\n'
    )
    names = {target for target, _ in imported_names("pkg.sub.views", path)}
    assert {"pkg.sub.base", "pkg.sub.group_views", "pkg.models", "ibl_core.sql"} <= names
    assert not any("ibl_credentials" in target for target in names)
    assert cycles({"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}) == [["a", "b", "c"]]


def test_no_import_circle() -> None:
    graph = import_graph()
    found = cycles(graph)
    if found:
        pytest.fail(
            "Import circles between modules:\n" + "\n".join(describe(c, graph) for c in found)
        )


def test_the_suggestions_engine_does_not_import_its_declarations() -> None:
    """The engine reads the kinds from its registry, which the declarations fill."""
    graph = import_graph()
    engine = [
        f"  {source} imports {target} (line {line})"
        for source, targets in sorted(graph.items())
        if source.startswith("ibl_catalog.suggestions.")
        for target, line in sorted(targets.items())
        if target == "ibl_catalog.declarations"
    ]
    if engine:
        pytest.fail("The suggestions engine imports the declarations:\n" + "\n".join(engine))


def test_no_upward_import_between_packages() -> None:
    graph = import_graph()
    upward = [
        f"  {source} imports {target} (line {line})"
        for source, targets in sorted(graph.items())
        for target, line in sorted(targets.items())
        if target.split(".")[0] not in ALLOWED[source.split(".")[0]]
    ]
    if upward:
        pytest.fail("Imports across packages the layering forbids:\n" + "\n".join(upward))
