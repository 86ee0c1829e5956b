"""Which template renderings to execute: the per-tool budget and distinct sampling.

Each tool gets ``per_tool`` examples, shared by the templates whose first call is that
tool. Renderings whose query and code repeat (or nearly repeat) an earlier one, or whose
query is close to an eval query, are skipped and another index is drawn, so the budget is
spent on distinct examples. Only the first stage is rendered here; nothing runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from punie_datagen.codecheck import called_tools
from punie_datagen.dedupe import NearDuplicateIndex
from punie_datagen.example import Rejection
from punie_datagen.render import TemplateError, draft, template_key
from punie_tools.spec import ToolSpec
from punie_tools.templates import ExampleTemplate

ATTEMPTS_PER_EXAMPLE = 5
NO_TOOL = "(no tool)"


@attrs.frozen
class Job:
    """One rendering to execute: template, index and seed (workers re-render it)."""

    id: str
    template: str
    index: int
    seed: int
    category: str


@attrs.frozen
class TemplatePlan:
    """What planning did with one template."""

    template: str
    tool: str
    target: int
    planned: int = 0
    skipped_duplicates: int = 0
    skipped_eval_leaks: int = 0

    def to_json(self) -> dict[str, object]:
        """The plan as a JSON object for the manifest."""
        return attrs.asdict(self)


@attrs.frozen
class Plan:
    """Jobs to run, templates that could not be planned, and per-template counts."""

    jobs: tuple[Job, ...]
    rejections: tuple[Rejection, ...]
    templates: tuple[TemplatePlan, ...]


def job_id(key: str, index: int) -> str:
    """The id of a generated example."""
    return f"generated:{key}#{index}"


def plan_jobs(
    templates: Sequence[ExampleTemplate],
    tools: Mapping[str, ToolSpec],
    fixtures: Mapping[str, object],
    eval_queries: Sequence[tuple[str, str]],
    *,
    seed: int,
    per_tool: int,
    threshold: float = 0.85,
) -> Plan:
    """Draw distinct renderings for every template within the per-tool budget."""
    rejections: list[Rejection] = []
    first_tool: dict[str, str] = {}
    by_key = {template_key(t): t for t in templates}
    for key in sorted(by_key):
        template = by_key[key]
        try:
            if template.fixture not in fixtures:
                raise TemplateError(f"{key}: unknown fixture {template.fixture!r}")
            first, _ = draft(template, seed, 0)
        except TemplateError as exc:
            rejections.append(Rejection(f"generated:{key}", "generated", "render", str(exc)))
            continue
        called = called_tools(first.code, tools)
        first_tool[key] = called[0] if called else NO_TOOL
    targets = _targets(first_tool, per_tool)
    leaks = NearDuplicateIndex(threshold)
    for query_id, text in eval_queries:
        if query_id not in leaks:
            leaks.add(query_id, text)
    seen = NearDuplicateIndex(threshold)
    jobs: list[Job] = []
    plans: list[TemplatePlan] = []
    for key in sorted(first_tool):
        tool = first_tool[key]
        category = tools[tool].category if tool in tools else "chat"
        plan = TemplatePlan(key, tool, targets[key])
        for index in range(max(1, targets[key] * ATTEMPTS_PER_EXAMPLE)):
            if plan.planned >= plan.target:
                break
            try:
                found, _ = draft(by_key[key], seed, index)
            except TemplateError as exc:
                rid = job_id(key, index)
                rejections.append(Rejection(rid, "generated", "render", str(exc), category))
                continue
            if leaks.find(found.query) is not None:
                plan = attrs.evolve(plan, skipped_eval_leaks=plan.skipped_eval_leaks + 1)
                continue
            if seen.find(found.query, found.code) is not None:
                plan = attrs.evolve(plan, skipped_duplicates=plan.skipped_duplicates + 1)
                continue
            jid = job_id(key, index)
            seen.add(jid, found.query, found.code)
            jobs.append(Job(jid, key, index, seed, category))
            plan = attrs.evolve(plan, planned=plan.planned + 1)
        plans.append(plan)
    return Plan(tuple(jobs), tuple(rejections), tuple(plans))


def _targets(first_tool: Mapping[str, str], per_tool: int) -> dict[str, int]:
    """Split each tool's budget evenly over its templates (at least one each)."""
    groups: dict[str, list[str]] = {}
    for key in sorted(first_tool):
        groups.setdefault(first_tool[key], []).append(key)
    targets: dict[str, int] = {}
    for keys in groups.values():
        share, extra = divmod(per_tool, len(keys))
        for i, key in enumerate(keys):
            targets[key] = max(min(per_tool, 1), share + (1 if i < extra else 0))
    return targets
