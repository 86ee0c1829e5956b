"""What the original validators got wrong, and edge cases of the rewritten rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.plugins.domain_cases import run


def rules(tool: str, source: str) -> list[tuple[str, int | None]]:
    """(rule, line) of each issue ``tool`` reports on ``source``."""
    result = run(tool, source)
    assert result.parse_error is None
    return [(i.rule, i.line) for i in result.issues]


@pytest.mark.parametrize("prefix", ["f", "F", "rf", "rF", "Rf", "RF", "fr", "fR", "Fr", "FR"])
def test_every_fstring_prefix_is_flagged(prefix: str) -> None:
    """html() with an f-string is flagged whatever the prefix (the original missed rf)."""
    source = f'html({prefix}"<p>{{name}}</p>")\n'
    assert rules("validate_escape_context", source) == [("no-fstring-in-html", 1)]


def test_implicitly_concatenated_fstring_is_flagged() -> None:
    """An f-string hidden in an implicit concatenation is still an f-string."""
    source = 'html(\n    "<p>"\n    f"{name}</p>"\n)\n'
    assert rules("validate_escape_context", source) == [("no-fstring-in-html", 2)]


def test_tstring_is_safe() -> None:
    """t-strings, including raw ones, are the safe form and are never flagged."""
    source = 'html(t"<p>{name}</p>")\nhtml(rt"<p>{name}</p>")\n'
    assert rules("validate_escape_context", source) == []


def test_fstring_without_markup_is_not_markup_building() -> None:
    """An f-string with no tag in it (a log line, a CSS class) is not flagged."""
    assert rules("validate_escape_context", 'cls = f"btn-{kind}"\n') == []


def test_service_dataclass_is_not_a_component() -> None:
    """A plain @dataclass without __call__ is an svcs service, not a broken component."""
    source = "@injectable\n@dataclass\nclass Users:\n    db: Inject[Database]\n"
    assert rules("validate_component", source) == []


def test_protocol_is_neither_component_nor_middleware() -> None:
    """Protocols describe components and middleware; they are not checked as either."""
    source = (
        "class Component(Protocol):\n"
        "    def __call__(self) -> Node: ...\n"
        "class Middleware(Protocol):\n"
        "    def __call__(self, target, props, context) -> dict: ...\n"
    )
    assert rules("validate_component", source) == []
    assert rules("check_render_tree", source) == []
    assert rules("validate_middleware_chain", source) == []


def test_injectable_component_is_not_middleware() -> None:
    """An @injectable tdom component with __call__(self) is not a bad middleware."""
    source = (
        "@injectable\n@dataclass\nclass Dashboard:\n"
        "    counter: Inject[Counter]\n"
        "    def __call__(self) -> Node:\n"
        '        return html(t"<p>{self.counter.count}</p>")\n'
    )
    assert rules("validate_middleware_chain", source) == []


def test_hookable_component_is_not_middleware() -> None:
    """@hookable marks a component that has middleware, not a middleware."""
    source = (
        '@hookable(middleware={"rendering": [AriaMiddleware]})\n@dataclass\nclass Image:\n'
        "    def __call__(self) -> str:\n"
        "        return html(t\"<img src='a.png' alt='a'>\")\n"
    )
    assert rules("validate_middleware_chain", source) == []


def test_middleware_may_name_its_target_component() -> None:
    """Real tdom-svcs middleware writes __call__(self, component, props, context)."""
    source = (
        '@middleware(categories=["auth"])\n@dataclass\nclass AuthMiddleware:\n'
        "    priority: int = -20\n"
        "    def __call__(self, component, props, context):\n"
        "        return props\n"
    )
    assert rules("validate_middleware_chain", source) == []


def test_import_alias_binds_the_alias() -> None:
    """Inject[DB] after ``import Database as DB`` is bound; the original name is not."""
    source = (
        "from svcs_di import Inject\nfrom app.db import Database as DB\n"
        "class S:\n    a: Inject[DB]\n    b: Inject[Database]\n"
    )
    assert rules("validate_injection_site", source) == [("inject-type-must-be-imported", 5)]


def test_function_parameters_are_injection_sites() -> None:
    """Inject[T] on a function parameter is checked like a field."""
    source = "from svcs_di import Inject\ndef view(users: Inject[Users]) -> str:\n    return ''\n"
    assert rules("validate_injection_site", source) == [("inject-type-must-be-imported", 2)]


def test_swapped_braces_are_unbalanced() -> None:
    """'}{' has as many braces of each kind but does not balance (the original counted)."""
    source = 'Route("/a/}id{", view)\n'
    assert rules("validate_route_pattern", source) == [("route-unbalanced-braces", 1)]


def test_mount_may_have_an_empty_path() -> None:
    """Starlette allows Mount("") but not Route("")."""
    source = 'Mount("", app=sub)\nRoute("", view)\n'
    assert rules("validate_route_pattern", source) == [("route-must-start-with-slash", 2)]


def test_self_dependency_is_a_cycle() -> None:
    """A service that injects itself cannot be built."""
    source = "@injectable\n@dataclass\nclass Loop:\n    me: Inject[Loop]\n"
    assert rules("check_dependency_graph", source) == [("dependency-cycle", 4)]


def test_nested_html_wrapped_in_markup_is_fine() -> None:
    """Markup(html(...)) inside a template is the documented way to embed rendered HTML."""
    source = 'from tdom import Markup, html\npage = html(t"<div>{Markup(html(content))}</div>")\n'
    assert rules("check_render_tree", source) == []


def _graph_source(n: int, edges: list[tuple[int, int]]) -> str:
    lines = []
    for i in range(n):
        lines += ["@injectable", "@dataclass", f"class C{i}:"]
        targets = [b for a, b in edges if a == i]
        lines += [f"    d{k}: Inject[C{b}]" for k, b in enumerate(targets)] or ["    pass"]
    return "\n".join(lines) + "\n"


def _cyclic_components(n: int, edges: list[tuple[int, int]]) -> int:
    reach = {i: {b for a, b in edges if a == i} for i in range(n)}
    for _ in range(n):
        for i in range(n):
            reach[i] = reach[i].union(*(reach[j] for j in reach[i]))
    cyclic = {i for i in range(n) if i in reach[i]}
    groups = {frozenset(j for j in cyclic if j in reach[i] and i in reach[j]) for i in cyclic}
    return len(groups)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda n: st.tuples(
            st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)))
        )
    )
)
def test_one_cycle_issue_per_strongly_connected_group(graph: tuple[int, list]) -> None:
    """check_dependency_graph reports each group of mutually dependent services once."""
    n, edges = graph
    edges = sorted(set(edges))
    found = rules("check_dependency_graph", _graph_source(n, edges))
    assert len(found) == _cyclic_components(n, edges)
