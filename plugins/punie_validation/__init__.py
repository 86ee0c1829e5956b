"""punie_validation: ty, ruff and pytest as tools, plus the shared ``sample_project`` fixture."""

from __future__ import annotations

from pathlib import Path

from punie_tools import (
    EvalQuery,
    ExampleTemplate,
    Fixture,
    ToolSpec,
    hookimpl,
    load_eval_queries,
    templates_in,
)
from punie_validation.pools import FIXTURE, pools
from punie_validation.sample_project import FIXTURE_DIR, setup
from punie_validation.tools import pytest_run, ruff_check, typecheck

HERE = Path(__file__).parent
CATEGORY = "validation"
PROMPT_EXAMPLE = 'r = ruff_check("src")\nprint(r.violation_count)'
"""The system prompt's example call (the first tool in the registry that carries one)."""


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
    return templates_in(__name__, FIXTURE, pools())


@hookimpl
def punie_eval_queries() -> list[EvalQuery]:
    """Held-out queries for the validation tools."""
    return load_eval_queries(HERE / "eval.toml")


@hookimpl
def punie_fixtures() -> list[Fixture]:
    """The sample_project fixture (an inventory package with scripted git history)."""
    return [Fixture(FIXTURE, FIXTURE_DIR, setup=setup)]
