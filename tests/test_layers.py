"""The packages' imports point down only, and no modules import each other in a cycle.

Layers, bottom first: the model runtime, the tool core, the tool plugins, dataset generation,
evaluation, training. Every import (function-level ones included) is read from the source, so
a lazy import cannot hide an upward dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("punie_runtime", "punie_tools", "plugins", "punie_datagen", "punie_eval", "punie_train")
PLUGINS = ROOT / "plugins"


def package_of(module: str) -> str | None:
    """The layer a dotted module name belongs to (None: a third-party or stdlib module)."""
    top = module.split(".")[0]
    if top in LAYERS:
        return top
    return "plugins" if (PLUGINS / top).is_dir() else None


def project_modules() -> Iterator[tuple[str, Path]]:
    """(dotted name, path) of every module of the layered packages (fixtures excluded)."""
    for layer in LAYERS:
        base = PLUGINS if layer == "plugins" else ROOT
        folders = (
            sorted(p for p in PLUGINS.iterdir() if p.is_dir())
            if layer == "plugins"
            else [ROOT / layer]
        )
        for folder in folders:
            for path in sorted(folder.rglob("*.py")):
                if "fixtures" in path.parts:
                    continue
                parts = path.relative_to(base).with_suffix("").parts
                name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
                yield name, path


def imports_of(
    name: str, path: Path, known: frozenset[str] = frozenset()
) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import in a module, relative ones resolved.

    ``from package import module`` imports that module (in `known`), not the package's
    ``__init__`` beyond what importing the module needs.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            submodules = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
            if len(submodules) < len(node.names):
                yield node.lineno, target
            for module in submodules:
                yield node.lineno, module


def upward_imports(name: str, path: Path) -> list[str]:
    """``line: imports X`` for each import of module `name` from a higher layer than its own."""
    mine = LAYERS.index(package_of(name) or "")
    found = []
    for line, target in imports_of(name, path):
        theirs = package_of(target)
        if theirs is not None and LAYERS.index(theirs) > mine:
            found.append(f"{line}: imports {target}")
    return found


def test_imports_point_down_only() -> None:
    upward = [
        f"{path.relative_to(ROOT)}:{problem}"
        for name, path in project_modules()
        for problem in upward_imports(name, path)
    ]
    assert not upward, "imports from a lower package to a higher one:\n" + "\n".join(upward)


def test_no_import_cycles_between_modules() -> None:
    modules = dict(project_modules())
    known = frozenset(modules)
    graph = {
        name: sorted({t for _, t in imports_of(name, path, known) if t in modules and t != name})
        for name, path in modules.items()
    }
    cycles = strongly_connected(graph)
    assert not cycles, "modules that import each other in a cycle: " + "; ".join(
        " <-> ".join(sorted(c)) for c in cycles
    )


def strongly_connected(graph: dict[str, list[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the components of more than one module (the cycles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_checks_see_an_upward_import_and_a_cycle(tmp_path: Path) -> None:
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from punie_train import run\n    import punie_eval.report\n")
    assert upward_imports("punie_tools.lazy", module) == [
        "2: imports punie_train",
        "3: imports punie_eval.report",
    ]
    assert upward_imports("punie_train.lazy", module) == []
    assert package_of("punie_train.run") == "punie_train"
    assert package_of("punie_git.tools") == "plugins"
    assert package_of("numpy") is None
    assert strongly_connected({"a": ["b"], "b": ["a"], "c": ["a"]}) == [{"a", "b"}]
