"""The domain plugins as installed: tools on a workspace, Code Mode, templates, eval queries."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from punie_svcs.tools import validate_injection_site
from punie_tdom.tools import validate_component
from punie_tdom_svcs.tools import validate_route_pattern

from punie_datagen.codecheck import calls_in_order
from punie_datagen.example import Example
from punie_datagen.execute import Context, run_job
from punie_datagen.plan import Job
from punie_datagen.render import RenderSession, clean_code, clean_text
from punie_datagen.validate import Validator
from punie_tools import ExampleTemplate, Registry, Workspace
from punie_tools.codemode import format_tool_call, parse_tool_call, run_code
from tests.plugins.domain_cases import (
    FIXTURE_NAMES,
    FIXTURES,
    PASSING,
    RULES,
    VALIDATORS,
    RuleCase,
    run,
)

CATEGORIES = ("tdom", "svcs", "tdom-svcs")


@pytest.fixture(name="registry", scope="module")
def fixture_registry() -> Registry:
    """The installed plugins."""
    return Registry.load()


@pytest.fixture(name="context", scope="module")
def fixture_context(registry: Registry) -> Context:
    """The datagen context: registry, system prompt and templates by key."""
    return Context.from_registry(registry)


@pytest.fixture(name="tdom_ws")
def fixture_tdom_ws(registry: Registry, tmp_path: Path) -> Workspace:
    """A fresh copy of tdom_app as a workspace."""
    return Workspace(registry.fixture("tdom_app").materialize(tmp_path))


def test_nine_tools_registered_with_categories(registry: Registry) -> None:
    """The three plugins register the nine validators under their categories."""
    found = {s.name: s.category for s in registry.tools() if s.category in CATEGORIES}
    assert found == {name: domain for name, (domain, _) in VALIDATORS.items()}


@pytest.mark.parametrize("tool", sorted(VALIDATORS))
def test_model_sees_only_file_path(registry: Registry, tool: str) -> None:
    """file_path is the one visible parameter; the workspace is injected."""
    spec = registry.tool(tool)
    assert [p.name for p in spec.parameters] == ["file_path"]
    assert spec.injected == ("workspace",)
    assert spec.result_text == "DomainValidationResult"


@pytest.mark.parametrize("name", sorted(FIXTURE_NAMES.values()))
def test_fixtures_are_declared(registry: Registry, name: str) -> None:
    """Each plugin declares its fixture workspace."""
    assert registry.fixture(name).path.is_dir()


@pytest.mark.parametrize("case", RULES, ids=lambda c: c.rule)
def test_tool_on_workspace_matches_source_check(
    registry: Registry, tmp_path: Path, case: RuleCase
) -> None:
    """The tool on a materialized fixture gives what the source check gives."""
    root = registry.fixture(FIXTURE_NAMES[case.domain]).materialize(tmp_path)
    spec = registry.tool(case.tool)
    with Workspace(root) as ws:
        assert spec.function(case.path, ws) == run(case.tool, case.source())


def test_missing_file_is_a_parse_error(tdom_ws: Workspace) -> None:
    """A path that does not exist gives valid=False and says so."""
    result = validate_component("components/nope.py", tdom_ws)
    assert (result.valid, result.issues) == (False, [])
    assert result.parse_error == "components/nope.py does not exist"


def test_directory_is_a_parse_error(tdom_ws: Workspace) -> None:
    """A directory is not a file to validate."""
    result = validate_component("components", tdom_ws)
    assert result.parse_error == "components is a directory, not a file"


def test_escaping_the_workspace_is_refused(tdom_ws: Workspace) -> None:
    """A path outside the workspace is reported, not read."""
    result = validate_component("../outside.py", tdom_ws)
    assert result.valid is False
    assert result.parse_error is not None and "leaves the workspace" in result.parse_error


def test_binary_file_is_a_parse_error(tdom_ws: Workspace) -> None:
    """Bytes that are not UTF-8 give a parse_error, not a traceback."""
    (tdom_ws.root / "blob.py").write_bytes(b"\xff\xfe\x00x = 1")
    assert validate_component("blob.py", tdom_ws).parse_error == "blob.py is not UTF-8 text"


def test_type_defined_in_file_is_a_valid_inject_target(tmp_path: Path) -> None:
    """Inject[T] with T a class of the same file is not flagged (the original flagged it)."""
    (tmp_path / "s.py").write_text(
        "from svcs_di import Inject\n\nclass Db: ...\n\nclass S:\n    db: Inject[Db]\n"
    )
    with Workspace(tmp_path) as ws:
        assert validate_injection_site("s.py", ws).issues == []


def test_decorator_routes_are_checked(tmp_path: Path) -> None:
    """@app.get("...")-style routes are validated like Route(...) calls."""
    (tmp_path / "r.py").write_text('@app.get("items/{id}")\nasync def item(): ...\n')
    with Workspace(tmp_path) as ws:
        result = validate_route_pattern("r.py", ws)
    assert [(i.rule, i.line) for i in result.issues] == [("route-must-start-with-slash", 1)]


def test_validator_runs_in_code_mode(registry: Registry, tdom_ws: Workspace) -> None:
    """A model's execute_code call runs a validator in the sandbox on the workspace."""
    code = (
        'r = validate_component("components/badge.py")\n'
        "print(r.valid, len(r.issues))\n"
        "for i in r.issues:\n"
        '    print(i.rule, i.line, i.severity, i.suggestion.startswith("add @dataclass"))\n'
    )
    call = parse_tool_call(format_tool_call(code))
    assert call is not None and call.code is not None
    result = run_code(call.code, registry, tdom_ws)
    assert result.error is None
    assert result.output.splitlines() == [
        "False 1",
        "component-must-have-dataclass 6 error True",
    ]
    assert result.tool_calls == ("validate_component",)


def test_code_mode_reports_parse_error_attribute(registry: Registry, tdom_ws: Workspace) -> None:
    """In the sandbox a missing file comes back as parse_error, not as an exception."""
    result = run_code('print(check_render_tree("nope.py").parse_error)', registry, tdom_ws)
    assert (result.error, result.output.strip()) == (None, "nope.py does not exist")


def _domain_templates(context: Context) -> dict[str, ExampleTemplate]:
    return {k: t for k, t in context.templates.items() if t.plugin in CATEGORIES}


def _called_tools(context: Context, seeds: int = 20) -> dict[str, set[str]]:
    """The validators each domain template's first code block calls, over several seeds."""
    called: dict[str, set[str]] = {}
    for key, template in _domain_templates(context).items():
        for seed in range(seeds):
            session = RenderSession(template, seed, 0)
            code = clean_code(session.block("code"))
            called.setdefault(key, set()).update(calls_in_order(code, set(VALIDATORS)))
    return called


def test_every_tool_has_a_template(context: Context) -> None:
    """Each of the nine validators is called by at least one template."""
    called = _called_tools(context)
    assert set().union(*called.values()) == set(VALIDATORS)


def test_multi_tool_templates_exist(context: Context) -> None:
    """Each plugin ships a template that calls two or more validators in one code block."""
    called = _called_tools(context)
    for category in CATEGORIES:
        assert any(
            key.startswith(category + "/") and len(tools) >= 2 for key, tools in called.items()
        ), category


@pytest.mark.parametrize("seed", range(3))
def test_templates_render_run_and_validate(context: Context, seed: int) -> None:
    """Every domain template renders, runs twice identically and passes datagen validation."""
    validator = Validator(
        tools={s.name: s for s in context.registry.tools()}, system_prompt=context.prompt
    )
    for key, template in _domain_templates(context).items():
        job = Job(f"{key}-{seed}", key, seed, seed, template.plugin)
        outcome = run_job(job, context)
        assert isinstance(outcome, Example), outcome
        checked = validator.validate(outcome)
        assert isinstance(checked, Example), checked
        answer = outcome.messages[-1].content
        assert "parse error" not in outcome.messages[-2].content, key
        assert "couldn't" not in answer, (key, answer)


def _rendered_queries(context: Context, seeds: int = 40) -> set[str]:
    out = set()
    for template in _domain_templates(context).values():
        for seed in range(seeds):
            session = RenderSession(template, seed, 0)
            out.add(clean_text(session.block("query")).lower())
    return out


def test_eval_queries_cover_every_tool(registry: Registry) -> None:
    """At least two held-out queries per tool and a multi-step workflow per plugin."""
    queries = [q for q in registry.eval_queries() if q.category in CATEGORIES]
    for tool in VALIDATORS:
        assert sum(any(c.tool == tool for c in q.expected) for q in queries) >= 2, tool
    for category in CATEGORIES:
        assert any(q.multi_step and q.category == category for q in queries), category


def test_eval_queries_are_held_out(registry: Registry, context: Context) -> None:
    """No eval query is a phrasing the templates produce."""
    rendered = _rendered_queries(context)
    for query in registry.eval_queries():
        if query.category in CATEGORIES:
            assert query.query.lower() not in rendered, query.id


def test_eval_queries_point_at_fixture_files(registry: Registry) -> None:
    """Each expected call names a file that exists in the query's fixture."""
    for query in registry.eval_queries():
        if query.category not in CATEGORIES:
            continue
        root = registry.fixture(query.fixture).path
        for call in query.expected:
            assert (root / str(call.args["file_path"])).is_file(), (query.id, call.args)


def test_template_pools_point_at_fixture_files(context: Context) -> None:
    """Every path a template can draw exists in its fixture."""
    for template in _domain_templates(context).values():
        root = FIXTURES[{v: k for k, v in FIXTURE_NAMES.items()}[template.fixture]]
        for pool in template.context.values():
            for item in pool if isinstance(pool, list) else []:
                path = item["path"] if isinstance(item, dict) else item
                assert (root / path).is_file(), path


def test_passing_files_pass_every_validator_of_their_plugin() -> None:
    """The passing fixture of each validator is clean for its whole plugin."""
    for tool, path in PASSING.items():
        domain = VALIDATORS[tool][0]
        source = (FIXTURES[domain] / path).read_text(encoding="utf-8")
        for other, (other_domain, validate) in VALIDATORS.items():
            if other_domain == domain:
                assert validate(source).issues == [], (path, other)


def test_fixture_rule_names_are_kebab_case() -> None:
    """Rule ids are kebab-case, as the reference names them."""
    for case in RULES:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)+", case.rule)
