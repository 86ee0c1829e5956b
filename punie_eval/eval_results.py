"""Evaluation results as attrs values: per step, per query, per category, and their JSON form."""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from punie_eval.first_call import NO_TOOL
from punie_eval.scoring import KEYWORD_PASS
from punie_runtime.engines import MLX_ENGINE
from punie_runtime.reply import Reply

RUNGS: tuple[str, ...] = ("parsed", "type_checked", "ran", "tools_called", "args_right")
"""The ladder, in order; ``strict`` is every rung at once."""

RUNG_TITLES: Mapping[str, str] = {
    "parsed": "format ok",
    "type_checked": "type-checks",
    "ran": "ran",
    "tools_called": "tools called",
    "args_right": "args right",
    "strict": "strict",
}


FAILURE_TEXT: Mapping[str, str] = {
    "parsed": "no tool call",
    "type_checked": "type check failed",
    "ran": "code failed",
    "tools_called": "wrong tools",
    "args_right": "wrong arguments",
}
"""How a query that stopped at each rung is described."""


def expected_first(chosen: str, expected: Collection[str]) -> bool:
    """Whether a chosen first tool is one of a query's expected tools.

    The one definition of first-tool accuracy, for the model and the baseline classifier alike.
    """
    return chosen in expected


@attrs.frozen
class Step:
    """One model reply of a query and, when it held a call, what running the code gave.

    ``reply`` is the replier's value as given (a `Generation` from a model); only the fields of
    `Reply` are saved.
    """

    reply: Reply
    code: str | None = None
    output: str = ""
    error: str | None = None
    type_errors: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The saved form: one flat object, the reply's text under ``reply``, its costs after."""
        costs = {
            f.name: getattr(self.reply, f.name) for f in attrs.fields(Reply) if f.name != "text"
        }
        return {
            "reply": self.reply.text,
            "code": self.code,
            "output": self.output,
            "error": self.error,
            "type_errors": self.type_errors,
            **costs,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        """Rebuild a step from ``to_dict()`` output (a missing cost is 0, as in old reports)."""
        run = {
            f.name: data[f.name] for f in attrs.fields(cls) if f.name != "reply" and f.name in data
        }
        return cls(structure(Reply, {**data, "text": data["reply"]}), **run)


@attrs.frozen
class Ladder:
    """Which rungs of the scoring ladder one query reached (each judged on its own)."""

    parsed: bool = False
    type_checked: bool = False
    ran: bool = False
    tools_called: bool = False
    args_right: bool = False

    @property
    def strict(self) -> bool:
        """Every rung: the call parsed, type-checked, ran, and called the right tools rightly."""
        return all(getattr(self, rung) for rung in RUNGS)

    def first_failure(self) -> str | None:
        """The name of the lowest rung missed, or None for a strict pass."""
        return next((rung for rung in RUNGS if not getattr(self, rung)), None)

    def verdict(self) -> str:
        """``pass``, or what went wrong first (``no tool call``, ``wrong arguments``...)."""
        failure = self.first_failure()
        return "pass" if failure is None else FAILURE_TEXT[failure]


@attrs.frozen
class QueryResult:
    """The outcome of one eval query: its replies, the ladder and the seed's keyword score."""

    id: str
    category: str
    query: str
    multi_step: bool
    steps: tuple[Step, ...]
    ladder: Ladder
    keyword_score: float
    called: tuple[str, ...] = ()
    expected: tuple[str, ...] = ()
    error: str | None = None  # the harness failed (e.g. the fixture did not materialise)

    @property
    def first_tool(self) -> str:
        """The first tool the model's code called, or ``NO_TOOL``."""
        return self.called[0] if self.called else NO_TOOL

    @property
    def first_tool_right(self) -> bool:
        """The first tool called is one of the expected tools."""
        return expected_first(self.first_tool, self.expected)

    @property
    def latency_s(self) -> float:
        """Seconds spent generating the model's replies for this query."""
        return sum(s.reply.seconds for s in self.steps)

    @property
    def generated_tokens(self) -> int:
        """Tokens the model generated over all steps."""
        return sum(s.reply.generated_tokens for s in self.steps)

    @property
    def decode_seconds(self) -> float:
        """Seconds spent decoding (generation time less the prompt's prefill)."""
        return sum(s.reply.decode_seconds for s in self.steps)

    @property
    def keyword_pass(self) -> bool:
        """The seed's pass criterion (keyword score >= 0.5)."""
        return self.keyword_score >= KEYWORD_PASS


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation, as numpy's default; 0 if empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@attrs.frozen
class Score:
    """Rates (0..1) of each rung, the keyword score and latency over a group of queries.

    ``first_tool`` is the rate of queries whose first called tool is an expected one (None in
    reports written before it was measured); ``reply_tokens_p50``/``_p95`` are the tokens
    generated per reply (each step of a multi-step query is a reply).
    """

    name: str
    n: int
    parsed: float
    type_checked: float
    ran: float
    tools_called: float
    args_right: float
    strict: float
    keyword: float
    keyword_pass: float
    latency_mean: float
    latency_p50: float
    latency_p95: float
    tokens_per_s: float
    first_tool: float | None = None
    reply_tokens_p50: float = 0.0
    reply_tokens_p95: float = 0.0

    @classmethod
    def of(cls, name: str, results: Sequence[QueryResult]) -> Score:
        """Aggregate a group of query results."""
        n = len(results)

        def rate(values: Iterable[bool | float]) -> float:
            return sum(float(v) for v in values) / n if n else 0.0

        latencies = [r.latency_s for r in results]
        reply_tokens = [float(s.reply.generated_tokens) for r in results for s in r.steps]
        seconds = sum(latencies)
        decoding = sum(r.decode_seconds for r in results)
        return cls(
            name=name,
            n=n,
            **{rung: rate(getattr(r.ladder, rung) for r in results) for rung in RUNGS},
            strict=rate(r.ladder.strict for r in results),
            keyword=rate(r.keyword_score for r in results),
            keyword_pass=rate(r.keyword_pass for r in results),
            latency_mean=seconds / n if n else 0.0,
            latency_p50=percentile(latencies, 50),
            latency_p95=percentile(latencies, 95),
            tokens_per_s=sum(r.generated_tokens for r in results) / decoding if decoding else 0.0,
            first_tool=rate(r.first_tool_right for r in results),
            reply_tokens_p50=percentile(reply_tokens, 50),
            reply_tokens_p95=percentile(reply_tokens, 95),
        )


@attrs.frozen
class EvalResult:
    """One model's evaluation: every query, each category's score and the overall score."""

    label: str
    model: str
    adapter: str | None
    prompt_hash: str
    queries: tuple[QueryResult, ...]
    categories: tuple[Score, ...]
    overall: Score
    seconds: float = 0.0
    max_tokens: int = 0
    system_prefill_s: float = 0.0
    engine: str = MLX_ENGINE
    """What answered (`punie_runtime.engines.Engine.describe`); reports before engines: mlx."""

    @classmethod
    def build(
        cls,
        label: str,
        model: str,
        adapter: str | None,
        prompt_hash: str,
        results: Sequence[QueryResult],
        *,
        seconds: float = 0.0,
        max_tokens: int = 0,
    ) -> EvalResult:
        """Aggregate query results into per-category and overall scores."""
        by_category: dict[str, list[QueryResult]] = {}
        for r in results:
            by_category.setdefault(r.category, []).append(r)
        return cls(
            label=label,
            model=model,
            adapter=adapter,
            prompt_hash=prompt_hash,
            queries=tuple(results),
            categories=tuple(Score.of(c, rs) for c, rs in by_category.items()),
            overall=Score.of("overall", results),
            seconds=seconds,
            max_tokens=max_tokens,
        )

    def category(self, name: str) -> Score | None:
        """The score of one category (None if it had no queries)."""
        return next((s for s in self.categories if s.name == name), None)

    def failures(self) -> list[QueryResult]:
        """Queries that missed the strict pass."""
        return [r for r in self.queries if not r.ladder.strict]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (derived values included for readers of report.json)."""
        data = attrs.asdict(self)
        for raw, result in zip(data["queries"], self.queries, strict=True):
            raw["ladder"]["strict"] = result.ladder.strict
            raw["latency_s"] = result.latency_s
            raw["keyword_pass"] = result.keyword_pass
            raw["first_tool"] = result.first_tool
            raw["first_tool_right"] = result.first_tool_right
            raw["steps"] = [step.to_dict() for step in result.steps]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvalResult:
        """Rebuild a result from ``to_dict()`` output (derived keys are ignored)."""
        return structure(cls, data)


T = TypeVar("T")


def structure(cls: type[T], data: Any) -> T:
    """Build an attrs instance from plain data, recursing through attrs and tuple fields.

    A nested attrs class with its own ``from_dict`` (`Step`, `EvalResult`) builds itself.
    """
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for field in attrs.fields(cls):
        if field.name in data:
            kwargs[field.name] = _value(hints[field.name], data[field.name])
    return cls(**kwargs)


def _value(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None:
            return None
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
        origin = typing.get_origin(hint)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return tuple(_value(item, v) for v in value)
    if isinstance(hint, type) and attrs.has(hint):
        from_dict = getattr(hint, "from_dict", None)
        return from_dict(value) if from_dict is not None else structure(hint, value)
    return value
