"""Tests of the eval harness with scripted replies: real fixtures, real sandbox, real scoring.

The model is replaced by a function of the conversation (the harness takes the replier as an
argument); tests/train/test_pipeline.py runs the same harness on the real embedded model.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from punie_eval.eval_results import RUNGS, EvalResult, Step, percentile
from punie_eval.evaluate import (
    EvalSelectionError,
    Message,
    evaluate,
    query_problems,
    select_queries,
)
from punie_runtime.generate import Generation
from punie_runtime.reply import Reply
from punie_tools import EvalQuery, ExpectedCall, Registry
from punie_tools.codemode import format_tool_call, parse_tool_response
from tests.train.toy_plugin import write_toy_plugin


@pytest.fixture(name="registry")
def fixture_registry(tmp_path: Path) -> Registry:
    """A registry holding only the toy eval plugin."""
    directory = tmp_path / "plugins"
    directory.mkdir()
    write_toy_plugin(directory)
    registry = Registry.load(entry_points=False, plugin_path=str(directory))
    assert not registry.errors
    return registry


def scripted(codes: Mapping[str, Sequence[str]]) -> Callable[[Sequence[Message]], Reply]:
    """A replier answering each query (by its text) with its next scripted code or prose."""

    def reply(messages: Sequence[Message]) -> Reply:
        query = messages[1]["content"]
        step = sum(1 for m in messages if m["role"] == "assistant")
        script = codes.get(query, ["I cannot help with that."])
        text = script[min(step, len(script) - 1)]
        text = text if text.startswith("!") else format_tool_call(text)
        return Reply(text.removeprefix("!"), prompt_tokens=10, generated_tokens=5, seconds=0.5)

    return reply


def run(registry: Registry, codes: Mapping[str, Sequence[str]], ids: Sequence[str]) -> EvalResult:
    """Evaluate the named toy queries with scripted replies."""
    queries = [q for q in registry.eval_queries() if q.id in ids]
    return evaluate(registry, scripted(codes), label="scripted", queries=queries)


def test_right_call_passes_every_rung(registry):
    """A reply calling the expected tool with the expected args is a strict pass."""
    result = run(
        registry,
        {"What does notes.txt say?": ['r = read_text("./notes.txt")\nprint(r.text)']},
        ["toy-read-1"],
    )
    only = result.queries[0]
    assert only.ladder.strict
    assert only.keyword_score == 1.0
    assert only.steps[0].output == "hello world\n\n"
    assert only.called == ("read_text",)


def test_prose_reply_fails_every_rung_but_scores_seed_keyword(registry):
    """Prose that names the tool gets the seed's 0.5 but no ladder rung."""
    result = run(registry, {"What does notes.txt say?": ["!Use read_text on it."]}, ["toy-read-1"])
    only = result.queries[0]
    assert only.ladder.first_failure() == "parsed"
    assert not any(getattr(only.ladder, rung) for rung in RUNGS)
    assert only.keyword_score == 0.5


def test_wrong_argument_calls_the_tool_but_misses_args(registry):
    """Calling the expected tool with another file passes up to 'tools called' only."""
    result = run(
        registry,
        {"Add 'bye' to notes.txt": ['r = append_text("other.txt", "bye")\nprint(r.success)']},
        ["toy-append-1"],
    )
    ladder = result.queries[0].ladder
    assert (ladder.parsed, ladder.tools_called, ladder.args_right) == (True, True, False)


def test_type_error_is_its_own_rung(registry):
    """Code the checker rejects but that runs is 'ran' without 'type-checked'."""
    code = 'r = read_text("notes.txt")\nprint(r.nope if len(r.text) < 0 else r.text)'
    result = run(registry, {"What does notes.txt say?": [code]}, ["toy-read-1"])
    only = result.queries[0]
    assert only.ladder.ran
    assert not only.ladder.type_checked
    assert "nope" in (only.steps[0].type_errors or "")


def test_runtime_error_fails_the_ran_rung(registry):
    """A call that raises in the sandbox misses 'ran' and keeps the error text."""
    code = 'r = read_text("notes.txt")\nprint(1 / 0)'
    only = run(registry, {"What does notes.txt say?": [code]}, ["toy-read-1"]).queries[0]
    assert not only.ladder.ran
    assert "ZeroDivisionError" in (only.steps[0].error or "")


def test_each_query_gets_a_fresh_fixture(registry):
    """A write in one query is not seen by the next one."""
    codes = {
        "Add 'bye' to notes.txt": ['r = append_text("notes.txt", "bye")\nprint(r.text)'],
        "What does notes.txt say?": ['r = read_text("notes.txt")\nprint(r.text)'],
    }
    result = run(registry, codes, ["toy-append-1", "toy-read-1"])
    assert "bye" in result.queries[1].steps[0].output
    assert result.queries[0].steps[0].output == "hello world\n\n"


def test_multi_step_feeds_the_tool_output_back(registry):
    """A multi-step query loops: the second reply sees the first call's output."""
    seen: list[str] = []
    codes = {
        "Read notes.txt, then append its first word to it": [
            'r = read_text("notes.txt")\nprint(r.text)',
            'r = append_text("notes.txt", "hello")\nprint(r.text)',
        ]
    }
    replier = scripted(codes)

    def spying(messages: Sequence[Message]) -> Reply:
        if messages[-1]["role"] == "user" and len(messages) > 2:
            seen.append(parse_tool_response(messages[-1]["content"]) or "")
        return replier(messages)

    queries = [q for q in registry.eval_queries() if q.id == "flow-1"]
    only = evaluate(registry, spying, label="scripted", queries=queries).queries[0]
    assert len(only.steps) == 2
    assert seen == ["hello world"]
    assert only.called == ("read_text", "append_text")
    assert only.ladder.strict
    assert only.keyword_score == 1.0


def test_multi_step_stops_after_three_replies(registry):
    """A model that never completes the workflow is cut off after three steps."""
    codes = {"Read notes.txt, then append its first word to it": ['print(read_text("x").success)']}
    queries = [q for q in registry.eval_queries() if q.id == "flow-1"]
    only = evaluate(registry, scripted(codes), label="s", queries=queries).queries[0]
    assert len(only.steps) == 3
    assert not only.ladder.tools_called


def test_fixture_failure_is_recorded_not_raised(registry):
    """A fixture whose setup raises fails that query with the reason; the run goes on."""
    only = run(registry, {}, ["broken-1"]).queries[0]
    assert "setup exploded" in (only.error or "")
    assert not only.ladder.strict


def test_scores_are_consistent_with_the_queries(registry):
    """Category rates are the mean of the query rungs and strict never exceeds a rung."""
    codes = {
        "What does notes.txt say?": ['r = read_text("notes.txt")\nprint(r.text)'],
        "Add 'bye' to notes.txt": ["!No."],
    }
    result = run(registry, codes, ["toy-read-1", "toy-append-1"])
    toy = result.category("toy")
    assert toy is not None
    assert (toy.n, toy.strict, toy.parsed) == (2, 0.5, 0.5)
    assert all(toy.strict <= getattr(toy, rung) for rung in RUNGS)
    assert toy.latency_mean == 0.5
    assert toy.tokens_per_s == 10.0
    assert (toy.reply_tokens_p50, toy.reply_tokens_p95) == (5.0, 5.0)  # 5 tokens per reply


def test_eval_result_round_trips_through_json(registry):
    """``from_dict(json(to_dict()))`` rebuilds the same result."""
    codes = {"What does notes.txt say?": ['r = read_text("notes.txt")\nprint(r.text)']}
    result = run(registry, codes, ["toy-read-1", "flow-1"])
    data = json.loads(json.dumps(result.to_dict()))
    assert data["queries"][0]["ladder"]["strict"] is True
    assert EvalResult.from_dict(data) == result


OLD_STEP_KEYS = [
    "reply",
    "code",
    "output",
    "error",
    "type_errors",
    "seconds",
    "prompt_tokens",
    "generated_tokens",
    "prefill_seconds",
    "reused_tokens",
]
"""A saved step's keys, in order, as reports and cached evaluations have always held them."""


def test_a_models_generation_is_kept_as_the_steps_reply(registry):
    """The replier's `Generation` is the step's reply itself; only `Reply` fields are saved."""
    generation = Generation(
        format_tool_call('r = read_text("notes.txt")\nprint(r.text)'),
        seconds=0.75,
        prompt_tokens=40,
        generated_tokens=3,
        prefill_seconds=0.25,
        reused_tokens=30,
        tokens=(1, 2, 3),
        stop="stop_string",
        forward_passes=2,
    )
    queries = [q for q in registry.eval_queries() if q.id == "toy-read-1"]
    result = evaluate(registry, lambda _: generation, label="g", queries=queries)
    only = result.queries[0]
    assert only.steps[0].reply is generation
    assert (only.latency_s, only.generated_tokens, only.decode_seconds) == (0.75, 3, 0.5)
    saved = result.to_dict()["queries"][0]["steps"][0]
    assert list(saved) == OLD_STEP_KEYS
    assert saved["reply"] == generation.text
    assert (saved["seconds"], saved["prefill_seconds"], saved["reused_tokens"]) == (0.75, 0.25, 30)
    again = EvalResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.queries[0].steps[0] == Step(
        Reply(
            generation.text,
            seconds=0.75,
            prompt_tokens=40,
            generated_tokens=3,
            prefill_seconds=0.25,
            reused_tokens=30,
        ),
        'r = read_text("notes.txt")\nprint(r.text)',
        output="hello world\n\n",
    )
    assert again.overall == result.overall


def test_a_step_saved_before_the_costs_were_measured_still_loads():
    """An old step without prefill or reuse counts loads with zeros and saves the same keys."""
    old = {"reply": "hi", "code": None, "output": "", "error": None, "type_errors": None}
    step = Step.from_dict({**old, "seconds": 1.5, "generated_tokens": 7})
    assert step == Step(Reply("hi", seconds=1.5, generated_tokens=7))
    assert list(step.to_dict()) == OLD_STEP_KEYS


def test_select_queries_by_pattern_and_round_robin_limit(registry):
    """Patterns match ids or categories; a limit alternates categories."""
    queries = registry.eval_queries()
    assert [q.id for q in select_queries(queries, patterns=["flow"])] == ["flow-1", "broken-1"]
    assert [q.id for q in select_queries(queries, patterns=["toy-r*"])] == ["toy-read-1"]
    assert [q.category for q in select_queries(queries, limit=2)] == ["toy", "flow"]


def test_select_queries_rejects_patterns_matching_nothing(registry):
    """An unknown pattern is a clear error naming the categories."""
    with pytest.raises(EvalSelectionError, match="toy"):
        select_queries(registry.eval_queries(), patterns=["nope*"])


def test_query_problems_name_unknown_tools_parameters_and_fixtures(registry):
    """Queries that cannot be passed as written are reported, one line each."""
    bad = EvalQuery(
        id="bad-1",
        query="q",
        category="toy",
        fixture="nowhere",
        expected=(ExpectedCall("read_text", {"file": "x"}), ExpectedCall("nope", {})),
    )
    assert query_problems(registry, [bad]) == [
        "bad-1: unknown fixture 'nowhere'",
        "bad-1: read_text() has no parameter 'file'",
        "bad-1: expects unknown tool 'nope'",
    ]
    assert query_problems(registry) == []


def test_installed_plugins_eval_queries_are_passable():
    """Every installed plugin's eval query names real tools, parameters and fixtures."""
    registry = Registry.load()
    assert query_problems(registry) == []


@given(values=st.lists(st.floats(0, 1e4), min_size=1, max_size=30), q=st.sampled_from([50, 95]))
def test_percentile_matches_numpy(values, q):
    """Latency percentiles interpolate linearly, as numpy's default does."""
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


@pytest.mark.slow
def test_expected_calls_pass_every_rung_on_the_installed_plugins():
    """A reply making exactly the expected calls passes strict, for every installed query whose
    expected arguments cover all required parameters (real tools on real fixtures)."""
    registry = Registry.load()
    codes: dict[str, list[str]] = {}
    for q in registry.eval_queries():
        required = [
            (e, p.name) for e in q.expected for p in registry.tool(e.tool).parameters if p.required
        ]
        if all(name in e.args for e, name in required):
            calls = [
                f"r{i} = {e.tool}({', '.join(f'{k}={v!r}' for k, v in e.args.items())})"
                f"\nprint(r{i})"
                for i, e in enumerate(q.expected)
            ]
            codes[q.query] = ["\n".join(calls)]
    queries = [q for q in registry.eval_queries() if q.query in codes]
    result = evaluate(registry, scripted(codes), label="expected", queries=queries)
    assert [(q.id, q.ladder.verdict()) for q in result.failures()] == []
    assert len(queries) >= len(registry.eval_queries()) // 2
