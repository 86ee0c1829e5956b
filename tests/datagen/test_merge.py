"""Deduplication, eval-query leakage and the stratified split."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from punie_datagen.codecheck import calls_in_order
from punie_datagen.dedupe import NearDuplicateIndex
from punie_datagen.example import Message, ValidExample
from punie_datagen.merge import merge
from punie_datagen.split import split, stratum_of, valid_count
from punie_tools.codemode import format_tool_call

CODE = 'r = git_status(".")\nfor f in r.files:\n    print(f.file, f.status, f.staged)\n'
GIT = {"git_status", "git_log"}


def ex(eid: str, query: str, code: str | None = None, source: str = "foundation") -> ValidExample:
    """A one-turn validated example, with a (git) tool call when ``code`` is given."""
    answer = format_tool_call(code) if code else "Sure."
    messages = (Message("user", query), Message("assistant", answer))
    tools = calls_in_order(code, GIT) if code else []
    return ValidExample(eid, source, messages, tools=tools, category="git" if code else "chat")


def test_exact_duplicate_is_dropped_keeping_the_first() -> None:
    """Identical (normalised) query and code: the later example goes, naming the first."""
    result = merge([ex("a", "Show status", CODE), ex("b", "show   STATUS", CODE)], [], seed=1)
    assert [d.id for d in result.dropped] == ["b"]
    assert result.dropped[0].match == "a"
    assert result.dropped[0].reason == "exact duplicate of a"
    assert result.dropped[0].category == "git"


def test_near_duplicate_is_dropped() -> None:
    """A query and code that differ by a character are near duplicates."""
    a = ex("a", "Which files changed in the working tree?", CODE)
    b = ex("b", "Which files changed in the working tree!", CODE.replace("staged", "staged "))
    result = merge([a, b], [], seed=1)
    assert [d.stage for d in result.dropped] == ["dedupe"]
    assert "near duplicate" in result.dropped[0].reason


def test_paraphrase_with_the_same_code_is_kept() -> None:
    """Different words for the same code are a paraphrase, not a duplicate."""
    a = ex("a", "Which files changed in the working tree?", CODE)
    b = ex("b", "List what git considers modified or untracked right now", CODE)
    result = merge([a, b], [], seed=1)
    assert result.dropped == ()


def test_eval_query_leak_is_dropped() -> None:
    """An example whose query is (nearly) an eval query is dropped, naming the query."""
    leak = ex("a", "Show me the git status of the repo.", CODE)
    result = merge([leak], [("git-1", "show me the git status of the repo")], seed=1)
    assert result.dropped[0].stage == "leakage"
    assert result.dropped[0].match == "git-1"


def test_index_returns_the_closest_match() -> None:
    """find() returns the most similar stored text over the threshold."""
    index = NearDuplicateIndex(0.8)
    index.add("far", "the quick brown fox jumps over the lazy dog")
    index.add("near", "the quick brown fox jumps over the lazy cat")
    found = index.find("the quick brown fox jumps over the lazy cat!")
    assert found is not None and found[0] == "near"


def test_split_is_stratified() -> None:
    """Each stratum sends about the valid fraction to valid, and at least one to train."""
    examples = [ex(f"a{i}", f"q{i}") for i in range(50)] + [ex(f"b{i}", f"r{i}") for i in range(3)]
    train, valid = split(examples, seed=3, valid_fraction=0.1, stratum=lambda e: e.id[0])
    by = Counter(e.id[0] for e in valid)
    assert by == {"a": 5}
    assert {e.id[0] for e in train} == {"a", "b"}


def test_stratum_is_the_carried_category_and_first_tool() -> None:
    """The datagen stratum reads the example's carried category and first tool."""
    assert stratum_of(ex("a", "q", 'git_log(".", 3)\ngit_status(".")')) == "git/git_log"
    assert stratum_of(ex("b", "q")) == "chat/-"


def test_valid_count_rounds_half_up_and_keeps_one_in_train() -> None:
    """valid_count: 15 * 0.1 -> 2, a single example stays in train."""
    assert valid_count(15, 0.1) == 2
    assert valid_count(1, 0.5) == 0
    assert valid_count(2, 0.9) == 1


def test_different_seed_changes_the_split() -> None:
    """The split is seeded."""
    examples = [ex(f"e{i}", f"query number {i}") for i in range(40)]
    one = split(examples, seed=1, valid_fraction=0.2, stratum=lambda e: "x")[1]
    two = split(examples, seed=2, valid_fraction=0.2, stratum=lambda e: "x")[1]
    assert {e.id for e in one} != {e.id for e in two}


queries = st.sampled_from(["Show status", "show status", "Log please", "Diff it", "hello"])
codes = st.sampled_from([None, CODE, 'print(git_log(".", 3))'])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(queries, codes, st.sampled_from(["foundation", "generated"]))))
def test_merge_loses_and_duplicates_nothing(rows: list[tuple[str, str | None, str]]) -> None:
    """Every input id ends in exactly one of train, valid or dropped."""
    examples = [ex(f"id{i}", q, c, s) for i, (q, c, s) in enumerate(rows)]
    result = merge(examples, [("eval-1", "Log please")], seed=7, valid_fraction=0.2)
    ids = [e.id for e in result.train] + [e.id for e in result.valid]
    ids += [d.id for d in result.dropped]
    assert sorted(ids) == sorted(e.id for e in examples)
    kept = [*result.train, *result.valid]
    assert len({(e.queries()[0].lower(), tuple(e.codes())) for e in kept}) == len(kept)
