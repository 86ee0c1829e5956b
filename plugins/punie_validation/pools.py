"""What the validation templates draw from: files of the sample_project fixture."""

from __future__ import annotations

import ast

from punie_validation.sample_project import FIXTURE_DIR, MODULE_FILES

FIXTURE = "sample_project"


def pools() -> dict[str, object]:
    """The Jinja context of the validation templates."""
    return {
        "module_files": list(MODULE_FILES),
        "packages": ["inventory", "."],
        "test_files": [
            "tests/test_models.py",
            "tests/test_warehouse.py",
            "tests/test_orders.py",
            "tests/test_reports.py",
            "tests/test_storage.py",
        ],
        "test_ids": fixture_test_ids(),
    }


def fixture_test_ids() -> list[str]:
    """Node ids (``tests/test_x.py::test_y``) of the fixture's tests, read from its files."""
    ids = []
    for path in sorted((FIXTURE_DIR / "tests").glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        ids += [
            f"tests/{path.name}::{node.name}"
            for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
        ]
    return ids
