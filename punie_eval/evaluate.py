"""Evaluate a model on every plugin's eval queries: generate, parse, run, score the ladder.

Each query runs on a fresh copy of its fixture, with the same system prompt as training.
The code is type-checked against the tools' stubs and run in the Code Mode sandbox; the
tools it calls are read from its AST and their arguments compared BFCL-style
(``punie_eval.scoring``). Multi-step queries get a short agent loop: the tool's output goes
back to the model, which may make the next call.
"""

from __future__ import annotations

import fnmatch
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import attrs

from punie_eval.eval_results import EvalResult, Ladder, QueryResult, Step
from punie_eval.scoring import expected_call_met, keyword_score
from punie_runtime.base_model import BaseModel
from punie_runtime.engines import Engine
from punie_runtime.reply import Reply
from punie_tools import EvalQuery, Registry, RunLimits, Sandbox, ToolSpec, Workspace
from punie_tools.callsite import CallSite, called_tools, extract_calls
from punie_tools.codemode import format_tool_response, parse_tool_call
from punie_tools.prompt import prompt_hash, system_prompt
from punie_tools.stubs import stubs

Message = Mapping[str, str]


Replier = Callable[[Sequence[Message]], Reply]
"""Greedy generation of the assistant's next reply to a conversation (system message first)."""

MAX_STEPS = 3
EVAL_LIMITS = RunLimits(seconds=60.0)
"""Looser than the agent's: a loaded machine running ty or pytest must not fail the model."""
DEFAULT_MAX_TOKENS = 384
# Every eval query expects a tool call; a reply with no "<tool_call>" after this many tokens
# is stopped there (it fails the strict ladder either way), so an untrained model does not
# spend the whole budget on prose. The keyword score only sees those first tokens.
CALL_WITHIN_TOKENS = 96
"""Reply budget: the longest training tool call is well under it; rambling stops there."""


class EvalSelectionError(ValueError):
    """A ``--queries`` pattern that matches no eval query."""


def select_queries(
    queries: Sequence[EvalQuery], *, patterns: Sequence[str] = (), limit: int | None = None
) -> list[EvalQuery]:
    """Pick queries by id/category glob patterns, then at most ``limit`` of them.

    A limit takes queries round-robin over categories, so a quick run still covers each.
    """
    chosen = list(queries)
    if patterns:
        chosen = [
            q
            for q in chosen
            if any(
                fnmatch.fnmatchcase(q.id, p) or fnmatch.fnmatchcase(q.category, p) for p in patterns
            )
        ]
        if not chosen:
            known = ", ".join(sorted({q.category for q in queries}))
            raise EvalSelectionError(
                f"no eval query matches {', '.join(patterns)} (ids or categories: {known})"
            )
    if limit is None or limit >= len(chosen):
        return chosen
    by_category: dict[str, list[EvalQuery]] = {}
    for q in chosen:
        by_category.setdefault(q.category, []).append(q)
    picked: list[EvalQuery] = []
    rank = 0
    while len(picked) < limit:
        for group in by_category.values():
            if rank < len(group) and len(picked) < limit:
                picked.append(group[rank])
        rank += 1
    return picked


@attrs.frozen
class _Context:
    registry: Registry
    specs: Mapping[str, ToolSpec]
    system: str
    stubs: str
    limits: RunLimits
    max_steps: int


def evaluate(
    registry: Registry,
    replier: Replier,
    *,
    label: str,
    model: str = "",
    adapter: str | None = None,
    queries: Sequence[EvalQuery] | None = None,
    max_steps: int = MAX_STEPS,
    max_tokens: int = 0,
    limits: RunLimits | None = None,
    on_result: Callable[[QueryResult], None] | None = None,
) -> EvalResult:
    """Run ``queries`` (default: every registry eval query) through ``replier`` and score them."""
    tools = registry.tools()
    ctx = _Context(
        registry=registry,
        specs={s.name: s for s in tools},
        system=system_prompt(tools),
        stubs=stubs(tools),
        limits=limits or EVAL_LIMITS,
        max_steps=max_steps,
    )
    started = time.perf_counter()
    results = []
    for query in registry.eval_queries() if queries is None else queries:
        result = evaluate_query(query, replier, ctx)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return EvalResult.build(
        label,
        model,
        adapter,
        prompt_hash(ctx.system),
        results,
        seconds=time.perf_counter() - started,
        max_tokens=max_tokens,
    )


def evaluate_query(query: EvalQuery, replier: Replier, ctx: _Context) -> QueryResult:
    """One query on a fresh fixture copy: up to ``max_steps`` replies for multi-step queries."""
    steps: list[Step] = []
    error: str | None = None
    with tempfile.TemporaryDirectory(prefix="punie-eval-") as tmp:
        try:
            root = ctx.registry.fixture(query.fixture).materialize(Path(tmp))
        except Exception as exc:  # a plugin's fixture setup is outside our control
            error = f"fixture {query.fixture!r} could not be prepared: {exc}"
        else:
            with Workspace(root) as workspace:
                steps = _converse(query, replier, ctx, workspace)
    return score_query(query, steps, ctx.specs, error=error)


def _converse(
    query: EvalQuery, replier: Replier, ctx: _Context, workspace: Workspace
) -> list[Step]:
    checked = Sandbox(ctx.specs, workspace, ctx.limits, type_check_stubs=ctx.stubs)
    plain = Sandbox(ctx.specs, workspace, ctx.limits)
    messages: list[Message] = [
        {"role": "system", "content": ctx.system},
        {"role": "user", "content": query.query},
    ]
    steps: list[Step] = []
    sites: list[CallSite] = []
    for _ in range(ctx.max_steps if query.multi_step else 1):
        reply = replier(messages)
        call = parse_tool_call(reply.text)
        code = call.code if call is not None and call.function == "execute_code" else None
        if code is None:
            steps.append(Step(reply))
            break
        run = checked.run(code)
        if run.type_errors is not None:
            # The checker rejected the code before running it: run it anyway, to judge the
            # "ran" rung on its own (the stubs may be stricter than the tools).
            run = attrs.evolve(plain.run(code), type_errors=run.type_errors)
        steps.append(
            Step(reply, code, output=run.output, error=run.error, type_errors=run.type_errors)
        )
        sites += extract_calls(code, ctx.specs) or []
        if all(expected_call_met(e, sites, ctx.specs) for e in query.expected):
            break
        messages += [
            {"role": "assistant", "content": reply.text},
            {"role": "user", "content": format_tool_response(run.reply)},
        ]
    return steps


def score_query(
    query: EvalQuery,
    steps: Sequence[Step],
    specs: Mapping[str, ToolSpec],
    *,
    error: str | None = None,
) -> QueryResult:
    """Score a query's replies on the ladder and with the seed's keyword score."""
    runs = [s for s in steps if s.code is not None]
    sites = [site for s in runs for site in extract_calls(s.code or "", specs) or []]
    ladder = Ladder(
        parsed=bool(steps) and steps[0].code is not None,
        type_checked=bool(runs) and all(s.type_errors is None for s in runs),
        ran=bool(runs) and all(s.error is None for s in runs),
        tools_called=bool(runs) and {e.tool for e in query.expected} <= set(called_tools(sites)),
        args_right=bool(runs) and all(expected_call_met(e, sites, specs) for e in query.expected),
    )
    keywords = query.keywords or tuple(dict.fromkeys(e.tool for e in query.expected))
    multi_tool = query.multi_step or len({e.tool for e in query.expected}) > 1
    return QueryResult(
        id=query.id,
        category=query.category,
        query=query.query,
        multi_step=query.multi_step,
        steps=tuple(steps),
        ladder=ladder,
        keyword_score=keyword_score([s.reply.text for s in steps], keywords, multi_tool=multi_tool),
        called=called_tools(sites),
        expected=tuple(e.tool for e in query.expected),
        error=error,
    )


def evaluate_model(
    registry: Registry,
    model: BaseModel,
    adapter: Path | None = None,
    *,
    label: str,
    queries: Sequence[EvalQuery] | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    max_steps: int = MAX_STEPS,
    on_result: Callable[[QueryResult], None] | None = None,
    engine: Engine | None = None,
) -> EvalResult:
    """Load a base model (with LoRA adapters fused in, when given) and evaluate it.

    `engine` answers (`punie_runtime.engines`; default mlx): llama.cpp runs the adapter fused
    into a GGUF, or the base model's own GGUF.
    """
    from punie_runtime.engines import open_generator  # imports mlx: after ensure_fast_blas()

    engine = engine or Engine("mlx")
    generator = open_generator(
        engine, model, adapter, max_tokens=max_tokens, call_within=CALL_WITHIN_TOKENS
    )
    # An agent prefills its system prompt once at start; so does the eval, timed apart, so
    # that the first query's latency is not the prompt's.
    system = {"role": "system", "content": system_prompt(registry.tools())}
    prefill_s = generator.prefill([system])
    result = evaluate(
        registry,
        generator.generate,
        label=label,
        model=model.describe(),
        adapter=str(adapter) if adapter is not None else None,
        queries=queries,
        max_steps=max_steps,
        max_tokens=max_tokens,
        on_result=on_result,
    )
    return attrs.evolve(result, system_prefill_s=prefill_s, engine=engine.describe(adapter))


def query_problems(registry: Registry, queries: Iterable[EvalQuery] | None = None) -> list[str]:
    """Eval queries that cannot be passed as written: unknown tool, parameter or fixture."""
    problems = []
    fixtures = registry.fixtures()
    for q in registry.eval_queries() if queries is None else queries:
        if q.fixture not in fixtures:
            problems.append(f"{q.id}: unknown fixture {q.fixture!r}")
        for call in q.expected:
            if call.tool not in registry:
                problems.append(f"{q.id}: expects unknown tool {call.tool!r}")
                continue
            names = {p.name for p in registry.tool(call.tool).parameters}
            problems += [
                f"{q.id}: {call.tool}() has no parameter {arg!r}"
                for arg in call.args
                if arg not in names
            ]
    return problems


def categories_in(results: Iterable[EvalResult]) -> list[str]:
    """Every category seen in any of the results, in first-seen order."""
    return list(dict.fromkeys(s.name for r in results for s in r.categories))
