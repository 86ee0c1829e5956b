"""Template pools read from the ``sample_project`` fixture's files, so they never drift from it."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

FIXTURE = "sample_project"


def pools() -> dict[str, object]:
    """The Jinja context of the text templates: the fixture's pools, and ``py`` (``repr``).

    ``py(value)`` writes a string as a Python literal in the templates' code.
    """
    return {**project_pools(sample_project_dir()), "py": repr}


def sample_project_dir() -> Path:
    """The fixture's source directory, shipped by punie_validation."""
    spec = importlib.util.find_spec("punie_validation")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the {FIXTURE} fixture's plugin punie_validation is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "fixtures" / FIXTURE


def project_pools(root: Path) -> dict[str, object]:
    """Files, classes, functions and constants of a Python project, for ``choice()`` in templates.

    Symbols are dicts with ``name``, ``file`` and ``line``; methods also have ``owner``.
    """
    py_files = sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*.py")
        if p.stat().st_size and "__pycache__" not in p.parts
    )
    classes: list[dict[str, object]] = []
    functions: list[dict[str, object]] = []
    methods: list[dict[str, object]] = []
    constants: list[dict[str, object]] = []
    for rel in py_files:
        tree = ast.parse((root / rel).read_text(encoding="utf-8"))
        for node in tree.body:
            where = {"name": getattr(node, "name", ""), "file": rel, "line": node.lineno}
            if isinstance(node, ast.ClassDef):
                classes.append(where)
                methods.extend(
                    {"name": item.name, "file": rel, "line": item.lineno, "owner": node.name}
                    for item in node.body
                    if isinstance(item, ast.FunctionDef) and not item.name.startswith("_")
                )
            elif isinstance(node, ast.FunctionDef) and not node.name.startswith("test_"):
                functions.append(where)
            elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                name = node.targets[0].id
                if name.isupper():
                    constants.append({"name": name, "file": rel, "line": node.lineno})
    return {
        "py_files": py_files,
        "modules": [f for f in py_files if not f.startswith("tests/")],
        "test_files": [f for f in py_files if f.startswith("tests/test_")],
        "doc_files": sorted(
            p.name for p in root.iterdir() if p.is_file() and p.suffix in {".md", ".toml"}
        ),
        "classes": classes,
        "functions": functions,
        "methods": methods,
        "constants": constants,
    }
