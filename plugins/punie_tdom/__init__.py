"""punie_tdom: validators for tdom components, their composition and escaping."""

from __future__ import annotations

from pathlib import Path

from punie_tdom.pools import FIXTURE, pools
from punie_tdom.tools import check_render_tree, validate_component, validate_escape_context
from punie_tools import (
    EvalQuery,
    ExampleTemplate,
    Fixture,
    ToolSpec,
    hookimpl,
    load_eval_queries,
    templates_in,
)

HERE = Path(__file__).parent
CATEGORY = "tdom"


@hookimpl
def punie_tools() -> list[ToolSpec]:
    """validate_component, check_render_tree and validate_escape_context (read-only)."""
    return [
        ToolSpec.from_function(fn, category=CATEGORY)
        for fn in (validate_component, check_render_tree, validate_escape_context)
    ]


@hookimpl
def punie_fixtures() -> list[Fixture]:
    """tdom_app: components, pages and views, with a broken file for every rule."""
    return [Fixture(FIXTURE, HERE / "fixtures" / FIXTURE)]


@hookimpl
def punie_example_templates() -> list[ExampleTemplate]:
    """Templates over the tdom_app fixture."""
    return templates_in(__name__, FIXTURE, pools())


@hookimpl
def punie_eval_queries() -> list[EvalQuery]:
    """Held-out queries for the tdom validators."""
    return load_eval_queries(HERE / "eval.toml")
