"""punie_tdom_svcs: validators for tdom-svcs middleware, DI in templates, and routes."""

from __future__ import annotations

from pathlib import Path

from punie_tdom_svcs.pools import FIXTURE, pools
from punie_tdom_svcs.tools import (
    check_di_template_binding,
    validate_middleware_chain,
    validate_route_pattern,
)
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
CATEGORY = "tdom-svcs"


@hookimpl
def punie_tools() -> list[ToolSpec]:
    """validate_middleware_chain, check_di_template_binding, validate_route_pattern."""
    return [
        ToolSpec.from_function(fn, category=CATEGORY)
        for fn in (validate_middleware_chain, check_di_template_binding, validate_route_pattern)
    ]


@hookimpl
def punie_fixtures() -> list[Fixture]:
    """tdom_svcs_app: DI components, middleware, routes, and a broken file for every rule."""
    return [Fixture(FIXTURE, HERE / "fixtures" / FIXTURE)]


@hookimpl
def punie_example_templates() -> list[ExampleTemplate]:
    """Templates over the tdom_svcs_app fixture."""
    return templates_in(__name__, FIXTURE, pools())


@hookimpl
def punie_eval_queries() -> list[EvalQuery]:
    """Held-out queries for the tdom-svcs validators."""
    return load_eval_queries(HERE / "eval.toml")
