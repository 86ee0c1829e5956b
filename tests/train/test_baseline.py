"""Tests of the bag-of-words baseline: fitted on the split it is given, scored like the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from punie_eval.baseline import (
    BaselineError,
    BaselineResult,
    baseline_for_run,
    baseline_for_split,
    evaluate_classifier,
    fit_classifier,
)
from punie_eval.eval_results import EvalResult, Ladder, QueryResult, structure
from punie_eval.first_call import NO_TOOL
from punie_tools import EvalQuery, ExpectedCall
from punie_tools.codemode import format_tool_call

TOOLS = ("read_file", "git_status", "pytest_run")
WORDS = {
    "read_file": ["show", "contents", "open"],
    "git_status": ["changed", "uncommitted", "modified"],
    "pytest_run": ["tests", "failing", "suite"],
}
FILLERS = ["please", "now", "for me", "in the project", "quickly", "here"]


def chat(query: str, tool: str | None) -> list[dict[str, str]]:
    """A system/user/assistant chat whose reply calls ``tool`` first (or answers in prose)."""
    reply = format_tool_call(f'r = {tool}(".")\nprint(r)') if tool else "Sure, here you go."
    return [
        {"role": "system", "content": "You are an agent."},
        {"role": "user", "content": query},
        {"role": "assistant", "content": reply},
    ]


def split(words: dict[str, list[str]]) -> list[list[dict[str, str]]]:
    """A train split where each tool's requests use that tool's words."""
    return [
        chat(f"{word} {filler}", tool)
        for tool, ws in words.items()
        for word in ws
        for filler in FILLERS
    ]


def write_split(path: Path, chats: list[list[dict[str, str]]]) -> Path:
    """Write chats as chat JSONL."""
    path.write_text("".join(json.dumps({"messages": c}) + "\n" for c in chats))
    return path


def query(qid: str, category: str, text: str, *tools: str) -> EvalQuery:
    """An eval query expecting ``tools``."""
    return EvalQuery(qid, text, category, "none", tuple(ExpectedCall(t) for t in tools))


QUERIES = [
    query("q1", "text", "show the contents of setup.py", "read_file"),
    query("q2", "git", "what is modified and uncommitted", "git_status"),
    query("q3", "validation", "run the failing tests", "pytest_run"),
    query("q4", "validation", "open the suite", "git_status", "pytest_run"),
]


def test_predictions_follow_the_words_of_the_split():
    """Each tool's words predict that tool."""
    classifier = fit_classifier(split(WORDS), TOOLS)
    assert classifier.tools == tuple(sorted(TOOLS))
    assert classifier.train_examples == 9 * len(FILLERS)
    assert classifier.predict(["show me", "changed files?", "failing suite"]) == list(
        ("read_file", "git_status", "pytest_run")
    )


def test_changing_the_split_changes_the_predictions():
    """The classifier learns the split it is given: swap two tools' words, swap the answers."""
    swapped = {
        "read_file": WORDS["git_status"],
        "git_status": WORDS["read_file"],
        "pytest_run": WORDS["pytest_run"],
    }
    texts = ["show me", "changed files?", "failing suite"]
    assert fit_classifier(split(swapped), TOOLS).predict(texts) == [
        "git_status",
        "read_file",
        "pytest_run",
    ]


def test_fitting_is_deterministic():
    """Two fits on the same split give the same predictions (fixed solver and seed)."""
    texts = [q.query for q in QUERIES] + ["open changed tests", "status"]
    first = fit_classifier(split(WORDS), TOOLS).predict(texts)
    assert fit_classifier(split(WORDS), TOOLS).predict(texts) == first


def test_prose_replies_teach_no_tool():
    """A reply that calls no tool is the ``(none)`` decision."""
    words = {**WORDS, None: ["hello", "thanks", "explain"]}
    chats = [chat(f"{w} {f}", tool) for tool, ws in words.items() for w in ws for f in FILLERS]
    classifier = fit_classifier(chats, TOOLS)
    assert NO_TOOL in classifier.tools
    assert classifier.predict(["thanks, explain"]) == [NO_TOOL]


def test_a_single_tool_split_predicts_that_tool():
    """With nothing to choose between, every query gets the one tool."""
    classifier = fit_classifier(split({"git_status": WORDS["git_status"]}), TOOLS)
    assert classifier.predict(["anything", "at all"]) == ["git_status", "git_status"]


def test_a_split_without_decisions_is_an_error():
    """Chats with no user turn answered by the assistant give nothing to learn."""
    with pytest.raises(BaselineError):
        fit_classifier([[{"role": "system", "content": "x"}]], TOOLS)


def test_accuracy_counts_any_expected_tool_per_category():
    """Right = the predicted first tool is one of the query's expected tools."""
    result = evaluate_classifier(fit_classifier(split(WORDS), TOOLS), QUERIES)
    predicted = {p.id: p.predicted for p in result.predictions}
    assert predicted["q1"] == "read_file"
    assert [p.right for p in result.predictions] == [
        predicted[q.id] in {e.tool for e in q.expected} for q in QUERIES
    ]
    assert result.overall.n == 4
    assert result.overall.accuracy == result.overall.right / 4
    assert [a.name for a in result.categories] == ["text", "git", "validation"]
    validation = result.category("validation")
    assert validation is not None
    assert validation.n == 2


def test_the_model_is_scored_the_same_way():
    """The model's first tool is ``called[0]``: right when among the expected tools."""
    ladder = Ladder()
    results = [
        QueryResult("a", "c", "q", False, (), ladder, 0.0, ("git_status",), ("git_status",)),
        QueryResult("b", "c", "q", False, (), ladder, 0.0, ("read_file", "x"), ("x", "y")),
        QueryResult("c", "d", "q", False, (), ladder, 0.0, ("y", "x"), ("x", "y")),
        QueryResult("d", "d", "q", False, (), ladder, 0.0, (), ("x",)),
    ]
    assert [r.first_tool for r in results] == ["git_status", "read_file", "y", NO_TOOL]
    assert [r.first_tool_right for r in results] == [True, False, True, False]
    evaluation = EvalResult.build("trained", "toy", None, "h", results)
    assert evaluation.overall.first_tool == 0.5
    assert [s.first_tool for s in evaluation.categories] == [0.5, 0.5]


def test_baseline_for_split_reads_the_file_and_round_trips(tmp_path):
    """The split is read from chat JSONL; the result survives JSON."""
    train = write_split(tmp_path / "train.jsonl", split(WORDS))
    result = baseline_for_split(train, TOOLS, QUERIES)
    assert result.train_path == str(train)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["overall"]["n"] == 4
    assert structure(BaselineResult, data) == result


def test_baseline_for_run_without_a_train_split_says_so(tmp_path):
    """An evaluation-only run with no dataset gets no baseline and a warning."""
    result, note = baseline_for_run(tmp_path, TOOLS, QUERIES)
    assert result is None
    assert "no classifier baseline" in note
    write_split(tmp_path / "train.jsonl", split(WORDS))
    result, note = baseline_for_run(tmp_path, TOOLS, QUERIES)
    assert result is not None
    assert "fitted on 54 examples" in note
