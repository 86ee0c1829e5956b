"""punie_validation: ty, ruff and pytest as tools, plus the shared ``sample_project`` fixture."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from punie_tools import (
    EvalQuery,
    ExampleTemplate,
    Fixture,
    ToolSpec,
    hookimpl,
    load_eval_queries,
    load_templates,
)
from punie_validation.sample_project import FIXTURE_DIR, setup
from punie_validation.tools import pytest_run, ruff_check, typecheck

CATEGORY = "validation"
PROMPT_EXAMPLE = 'r = ruff_check("src")\nprint(r.violation_count)'
"""The system prompt's example call (the first tool in the registry that carries one)."""
_HERE = Path(str(files(__name__)))

# Pools the templates draw from: facts of the sample_project fixture.
TEMPLATE_CONTEXT: dict[str, object] = {
    "module_files": [
        "inventory/models.py",
        "inventory/warehouse.py",
        "inventory/orders.py",
        "inventory/pricing.py",
        "inventory/reports.py",
        "inventory/storage.py",
    ],
    "packages": ["inventory", "."],
    "test_files": [
        "tests/test_models.py",
        "tests/test_warehouse.py",
        "tests/test_orders.py",
        "tests/test_reports.py",
        "tests/test_storage.py",
    ],
}


@hookimpl
def punie_tools() -> list[ToolSpec]:
    """typecheck, ruff_check and pytest_run (marked as writing: it runs the project's code)."""
    return [
        ToolSpec.from_function(typecheck, category=CATEGORY),
        ToolSpec.from_function(ruff_check, category=CATEGORY, example=PROMPT_EXAMPLE),
        ToolSpec.from_function(pytest_run, category=CATEGORY, writes=True),
    ]


@hookimpl
def punie_example_templates() -> list[ExampleTemplate]:
    """Templates rendered against the sample_project fixture."""
    return load_templates(_HERE / "templates", "sample_project", TEMPLATE_CONTEXT)


@hookimpl
def punie_eval_queries() -> list[EvalQuery]:
    """Held-out queries for the validation tools."""
    return load_eval_queries(_HERE / "eval.toml")


@hookimpl
def punie_fixtures() -> list[Fixture]:
    """The sample_project fixture (an inventory package with scripted git history)."""
    return [Fixture("sample_project", FIXTURE_DIR, setup=setup)]
