"""punie_svcs: validators for svcs services, their dependency graph and Inject[T] sites."""

from __future__ import annotations

from pathlib import Path

from punie_svcs.pools import FIXTURE, pools
from punie_svcs.tools import (
    check_dependency_graph,
    validate_injection_site,
    validate_service_registration,
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
CATEGORY = "svcs"


@hookimpl
def punie_tools() -> list[ToolSpec]:
    """validate_service_registration, check_dependency_graph, validate_injection_site."""
    return [
        ToolSpec.from_function(fn, category=CATEGORY)
        for fn in (validate_service_registration, check_dependency_graph, validate_injection_site)
    ]


@hookimpl
def punie_fixtures() -> list[Fixture]:
    """svcs_app: services, a registry setup, and a broken file for every rule."""
    return [Fixture(FIXTURE, HERE / "fixtures" / FIXTURE)]


@hookimpl
def punie_example_templates() -> list[ExampleTemplate]:
    """Templates over the svcs_app fixture."""
    return templates_in(__name__, FIXTURE, pools())


@hookimpl
def punie_eval_queries() -> list[EvalQuery]:
    """Held-out queries for the svcs validators."""
    return load_eval_queries(HERE / "eval.toml")
