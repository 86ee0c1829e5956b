"""The text and git plugins' templates and eval queries, rendered and run as punie_datagen does."""

from __future__ import annotations

import shutil

import pytest

from punie_datagen.example import Example
from punie_datagen.execute import Context, run_job
from punie_datagen.plan import Job
from punie_datagen.validate import Validator
from punie_tools import Registry

PLUGINS = ("text", "git")
TOOLS = {
    "text": ("read_file", "write_file", "run_command"),
    "git": ("git_status", "git_diff", "git_log"),
}

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture(name="registry", scope="module")
def fixture_registry() -> Registry:
    """The installed plugins (text, git and the validation plugin's sample_project)."""
    return Registry.load()


@pytest.fixture(name="context", scope="module")
def fixture_context(registry: Registry) -> Context:
    """What punie_datagen's workers hold: registry, system prompt, templates by key."""
    return Context.from_registry(registry)


def _template_keys() -> list[str]:
    registry = Registry.load()
    return sorted(f"{t.plugin}/{t.name}" for t in registry.templates() if t.plugin in PLUGINS)


def _generate(context: Context, key: str, index: int) -> Example:
    """Render, run twice and validate one example; fail with datagen's reason if rejected."""
    outcome = run_job(Job(f"{key}#{index}", key, index, 33, key.split("/")[0]), context)
    assert isinstance(outcome, Example), f"{outcome.stage}: {outcome.reason}"
    specs = {s.name: s for s in context.registry.tools()}
    checked = Validator(specs, context.prompt).validate(outcome)
    assert isinstance(checked, Example), f"{checked.stage}: {checked.reason}"
    return checked


@pytest.mark.parametrize("key", _template_keys())
def test_template_yields_a_valid_reproducible_example(context: Context, key: str) -> None:
    """Each template renders, runs the same twice on fresh fixtures and passes validation."""
    example = _generate(context, key, 0)
    assert example.messages[-1].role == "assistant"
    assert "Error:" not in example.messages[-1].content


@pytest.mark.slow
@pytest.mark.parametrize("key", _template_keys())
def test_template_yields_valid_examples_for_many_draws(context: Context, key: str) -> None:
    """Several draws of each template are all accepted."""
    for index in range(1, 8):
        _generate(context, key, index)


@pytest.mark.parametrize("plugin", PLUGINS)
def test_every_tool_has_templates(registry: Registry, plugin: str) -> None:
    """Each tool is called by at least one template, and some template calls several tools."""
    sources = [t.source for t in registry.templates() if t.plugin == plugin]
    for tool in TOOLS[plugin]:
        assert any(f"{tool}(" in s for s in sources), tool
    assert any(sum(f"{tool}(" in s for tool in TOOLS[plugin]) > 1 for s in sources)


@pytest.mark.parametrize("plugin", PLUGINS)
def test_eval_queries_cover_every_tool_and_a_workflow(registry: Registry, plugin: str) -> None:
    """At least two held-out queries per tool, one multi-tool workflow, args that exist."""
    queries = [q for q in registry.eval_queries() if q.category == plugin]
    for tool in TOOLS[plugin]:
        assert sum(1 for q in queries if q.expected[0].tool == tool and not q.multi_step) >= 2
    assert any(q.multi_step and len({e.tool for e in q.expected}) > 1 for q in queries)
    for query in queries:
        assert query.fixture in registry.fixtures()
        for call in query.expected:
            names = {p.name for p in registry.tool(call.tool).parameters}
            assert set(call.args) <= names, (query.id, call.tool)


@pytest.mark.parametrize("plugin", PLUGINS)
def test_eval_queries_are_not_template_phrasings(registry: Registry, plugin: str) -> None:
    """No eval query is written into a template of its plugin."""
    sources = "\n".join(t.source for t in registry.templates() if t.plugin == plugin)
    for query in (q for q in registry.eval_queries() if q.category == plugin):
        assert query.query not in sources, query.id
