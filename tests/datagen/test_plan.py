"""Planning which renderings run: the per-tool budget, distinct draws, eval leaks."""

from __future__ import annotations

from collections import Counter

from punie_datagen.codecheck import calls_in_order
from punie_datagen.plan import plan_jobs
from punie_datagen.render import draft
from punie_tools import ExampleTemplate
from tests.datagen.toolset import TOOLS

FIXTURES = {"fx": object()}
ANSWER = "{% block answer %}ok{% endblock %}"


def template(name: str, query: str, code: str) -> ExampleTemplate:
    """A template from query and code block bodies."""
    source = f"{{% block query %}}{query}{{% endblock %}}{{% block code %}}{code}{{% endblock %}}"
    return ExampleTemplate(name, source + ANSWER, fixture="fx", plugin="p")


LOG = template(
    "log", "Last {{ randint(1, 50) }} commits", 'print(git_log(".", {{ randint(1, 9) }}))'
)
MIXED = template(
    "mixed",
    "Mixed request {{ randint(1, 1000) }}",
    '{% if randint(0, 3) == 0 %}print(tags(["a"])){% else %}print(git_log(".")){% endif %}',
)
FIXED = template("fixed", "Always the same", 'print(tags(["x"]))')


def planned_calls(templates: list[ExampleTemplate], per_tool: int) -> Counter:
    """How many planned jobs call each tool in their first code block."""
    plan = plan_jobs(templates, TOOLS, FIXTURES, [], seed=1, per_tool=per_tool)
    by_key = {f"p/{t.name}": t for t in templates}
    counts: Counter = Counter()
    for job in plan.jobs:
        code = draft(by_key[job.template], 1, job.index)[0].code
        counts.update(set(calls_in_order(code, TOOLS)))
    return counts


def test_templates_of_one_tool_share_its_budget() -> None:
    """Two templates whose first call is git_log split per_tool between them."""
    other = template("log2", "History, {{ randint(1, 50) }} entries", 'print(git_log("."))')
    plan = plan_jobs([LOG, other], TOOLS, FIXTURES, [], seed=1, per_tool=6)
    assert {p.template: p.target for p in plan.templates} == {"p/log": 3, "p/log2": 3}


def test_tools_a_template_only_sometimes_calls_are_topped_up() -> None:
    """A tool reached only by some renderings still gets per_tool planned examples."""
    counts = planned_calls([LOG, MIXED], per_tool=6)
    assert counts["git_log"] >= 6
    assert counts["tags"] >= 6


def test_repeated_renderings_are_skipped_and_counted() -> None:
    """A template that always renders the same text is planned once; the repeats counted."""
    plan = plan_jobs([FIXED], TOOLS, FIXTURES, [], seed=1, per_tool=3)
    assert len(plan.jobs) == 1
    assert plan.templates[0].skipped_duplicates > 0


def test_renderings_close_to_an_eval_query_are_skipped() -> None:
    """A query that is (nearly) an eval query is never planned."""
    plan = plan_jobs([FIXED], TOOLS, FIXTURES, [("q1", "always the same!")], seed=1, per_tool=2)
    assert plan.jobs == ()
    assert plan.templates[0].skipped_eval_leaks > 0


def test_broken_template_is_a_render_rejection() -> None:
    """A template with an unknown fixture or an error is rejected, the others planned."""
    broken = ExampleTemplate("broken", "{% block query %}", fixture="fx", plugin="p")
    elsewhere = ExampleTemplate("elsewhere", LOG.source, fixture="nope", plugin="p")
    plan = plan_jobs([broken, elsewhere, LOG], TOOLS, FIXTURES, [], seed=1, per_tool=2)
    reasons = {r.id: r.reason for r in plan.rejections}
    assert "line 1" in reasons["generated:p/broken"]
    assert "unknown fixture 'nope'" in reasons["generated:p/elsewhere"]
    assert {j.template for j in plan.jobs} == {"p/log"}


def test_plan_is_deterministic() -> None:
    """The same seed plans the same jobs."""
    one = plan_jobs([LOG, MIXED], TOOLS, FIXTURES, [], seed=4, per_tool=5)
    assert one == plan_jobs([LOG, MIXED], TOOLS, FIXTURES, [], seed=4, per_tool=5)
