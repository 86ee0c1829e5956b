"""Which template renderings to execute: the per-tool budget and distinct sampling.

Each tool gets ``per_tool`` examples, shared by the templates whose first call is that
tool. Renderings whose query and code repeat (or nearly repeat) an earlier one, or whose
query is close to an eval query, are skipped and another index is drawn, so the budget is
spent on distinct examples. Only the first stage is rendered here; nothing runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from punie_datagen.codecheck import calls_in_order
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
    """Draw distinct renderings for every template within the per-tool budget.

    First each template draws its share of its first tool's budget; then every tool that
    fewer than ``per_tool`` planned examples call is topped up from the templates whose
    renderings call it (templates may vary which tools they call).
    """
    planner = _Planner(tools, seed, threshold, eval_queries)
    first_tool: dict[str, str] = {}
    for key, template in sorted((template_key(t), t) for t in templates):
        try:
            if template.fixture not in fixtures:
                raise TemplateError(f"{key}: unknown fixture {template.fixture!r}")
            first, _ = draft(template, seed, 0)
        except TemplateError as exc:
            planner.rejections.append(
                Rejection(f"generated:{key}", "generated", "render", str(exc))
            )
            continue
        called = calls_in_order(first.code, tools)
        first_tool[key] = called[0] if called else NO_TOOL
        planner.templates[key] = template
    targets = _targets(first_tool, per_tool)
    for key in sorted(first_tool):
        planner.plans[key] = TemplatePlan(key, first_tool[key], targets[key])
        while planner.plans[key].planned < targets[key] and planner.draw(key):
            pass
    if per_tool > 0:
        for tool in sorted(tools):
            for key in sorted(k for k, calls in planner.calls.items() if tool in calls):
                while planner.count(tool) < per_tool and planner.draw(key, tool):
                    pass
    return Plan(
        tuple(sorted(planner.jobs, key=lambda j: (j.template, j.index))),
        tuple(planner.rejections),
        tuple(planner.plans[k] for k in sorted(planner.plans)),
    )


class _Planner:
    """The state of planning: jobs so far, the next index of each template, indexes."""

    def __init__(
        self,
        tools: Mapping[str, ToolSpec],
        seed: int,
        threshold: float,
        eval_queries: Sequence[tuple[str, str]],
    ) -> None:
        self.tools = tools
        self.seed = seed
        self.templates: dict[str, ExampleTemplate] = {}
        self.plans: dict[str, TemplatePlan] = {}
        self.jobs: list[Job] = []
        self.rejections: list[Rejection] = []
        self.calls: dict[str, set[str]] = {}  # template -> tools its renderings called
        self.job_tools: list[set[str]] = []
        self.next_index: dict[str, int] = {}
        self.leaks = NearDuplicateIndex(threshold)
        for query_id, text in eval_queries:
            if query_id not in self.leaks:
                self.leaks.add(query_id, text)
        self.seen = NearDuplicateIndex(threshold)

    def count(self, tool: str) -> int:
        """Planned jobs whose first code block calls ``tool``."""
        return sum(tool in called for called in self.job_tools)

    def draw(self, key: str, tool: str | None = None) -> bool:
        """Plan the template's next distinct rendering (one that calls ``tool`` if given).

        Returns False once the template has used its attempts.
        """
        plan = self.plans[key]
        limit = max(1, plan.target) * ATTEMPTS_PER_EXAMPLE
        while (index := self.next_index.get(key, 0)) < limit + plan.planned:
            self.next_index[key] = index + 1
            try:
                found, _ = draft(self.templates[key], self.seed, index)
            except TemplateError as exc:
                rid = job_id(key, index)
                self.rejections.append(Rejection(rid, "generated", "render", str(exc)))
                continue
            called = calls_in_order(found.code, self.tools)
            self.calls.setdefault(key, set()).update(called)
            if tool is not None and tool not in called:
                continue
            if self.leaks.find(found.query) is not None:
                self.plans[key] = attrs.evolve(plan, skipped_eval_leaks=plan.skipped_eval_leaks + 1)
                plan = self.plans[key]
                continue
            if self.seen.find(found.query, found.code) is not None:
                self.plans[key] = attrs.evolve(plan, skipped_duplicates=plan.skipped_duplicates + 1)
                plan = self.plans[key]
                continue
            jid = job_id(key, index)
            self.seen.add(jid, found.query, found.code)
            category = self.tools[called[0]].category if called else "chat"
            self.jobs.append(Job(jid, key, index, self.seed, category))
            self.job_tools.append(set(called))
            self.plans[key] = attrs.evolve(plan, planned=plan.planned + 1)
            return True
        return False


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
