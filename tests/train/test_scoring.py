"""Tests of the eval scoring: BFCL-style argument normalisation and matching, keywords.

Reading calls from code and binding them: tests/core/test_callsite.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from punie_eval.scoring import (
    arg_matches,
    expected_call_met,
    keyword_score,
    normalize_path,
    normalize_value,
)
from punie_tools import ExpectedCall, ToolSpec
from punie_tools.callsite import extract_calls
from punie_tools.codemode import format_tool_call
from punie_tools.spec import Unknown
from tests.toy_calls import literals, toy_specs


@pytest.fixture(name="specs")
def fixture_specs() -> dict[str, ToolSpec]:
    """Two toy tool specs, one with an injected workspace and a default."""
    return toy_specs()


@given(
    path=st.from_regex(r"[a-z]{1,5}(/[a-z]{1,5}){0,3}(\.py)?", fullmatch=True),
    prefix=st.sampled_from(["", "./", "././"]),
    suffix=st.sampled_from(["", "/", "  "]),
)
def test_normalize_path_ignores_spelling(path, prefix, suffix):
    """``./src/``, ``src/`` and ``src`` are one path."""
    assert normalize_path(prefix + path + suffix) == normalize_path(path)


@pytest.mark.parametrize("root", ["", ".", "./", " . "])
def test_normalize_path_spells_the_root_as_dot(root):
    """Every spelling of the workspace root is ``.``."""
    assert normalize_path(root) == "."


@given(value=literals)
def test_normalize_value_is_idempotent_on_equal_values(value):
    """A value always matches itself."""
    assert normalize_value(value) == normalize_value(value)
    assert arg_matches("symbol", value, value)


@given(text=st.text(st.characters(codec="ascii", categories=("L",)), min_size=1, max_size=12))
def test_symbols_match_case_insensitively_and_stripped(text):
    """Symbol strings are case-folded and stripped (BFCL-style)."""
    assert arg_matches("symbol", text, f"  {text.upper()} ")


def test_paths_stay_case_sensitive():
    """Paths are not case-folded: ``Src/A.py`` is another file than ``src/a.py``."""
    assert not arg_matches("file_path", "src/a.py", "Src/A.py")
    assert arg_matches("file_path", "src/a.py", "./src/a.py")


def test_numbers_match_by_value_but_booleans_stay_distinct():
    """``3 == 3.0`` but ``True`` is not ``1``."""
    assert arg_matches("line", 3, 3.0)
    assert not arg_matches("flag", True, 1)


def test_unknown_values_never_match():
    """An argument the AST cannot evaluate is never counted as right."""
    assert not arg_matches("path", "a.py", Unknown("p"))


def test_expected_call_met_compares_required_arguments(specs):
    """The expected call is met by a call whose bound args include the expected ones."""
    sites = extract_calls('r = find_symbol("./a.py", symbol="card", line=3)', set(specs)) or []
    assert expected_call_met(ExpectedCall("find_symbol", {"file_path": "a.py"}), sites, specs)
    assert expected_call_met(ExpectedCall("find_symbol", {"symbol": "Card"}), sites, specs)
    assert not expected_call_met(ExpectedCall("find_symbol", {"symbol": "Other"}), sites, specs)
    assert not expected_call_met(ExpectedCall("git_status", {}), sites, specs)


def test_expected_default_argument_may_be_omitted(specs):
    """Omitting an argument whose default is the expected value is right."""
    sites = extract_calls("r = git_status()", set(specs)) or []
    assert expected_call_met(ExpectedCall("git_status", {"path": "./"}), sites, specs)


def test_keyword_score_single_tool_ladder():
    """Seed scores: wrapper+keyword 1.0, wrapper alone 0.1, keyword alone 0.5, nothing 0."""
    call = format_tool_call('r = git_status(".")\nprint(r)')
    assert keyword_score(call, ["git_status"], multi_tool=False) == 1.0
    assert keyword_score(call, ["ruff_check"], multi_tool=False) == 0.1
    assert keyword_score("Use git_status for that.", ["git_status"], multi_tool=False) == 0.5
    assert keyword_score("No idea.", ["git_status"], multi_tool=False) == 0.0


def test_keyword_score_multi_tool_is_fraction_plus_wrapper_capped():
    """Multi-tool: fraction of keywords found plus 0.1 for the wrapper, at most 1.0."""
    call = format_tool_call("a = git_status()\nb = git_diff()")
    assert keyword_score(call, ["git_status", "git_log"], multi_tool=True) == pytest.approx(0.6)
    assert keyword_score(call, ["git_status", "git_diff"], multi_tool=True) == 1.0
    assert keyword_score("git_status", ["git_status", "git_log"], multi_tool=True) == 0.5


def test_keyword_score_counts_every_step_of_an_agent_loop():
    """Keywords found in any reply of a multi-step run count."""
    replies = [format_tool_call("a = git_status()"), format_tool_call("b = git_log()")]
    assert keyword_score(replies, ["git_status", "git_log"], multi_tool=True) == 1.0


@given(reply=st.text(max_size=200), keywords=st.lists(st.text(max_size=5), max_size=3))
def test_keyword_score_stays_in_range(reply, keywords):
    """The keyword score is always within [0, 1] and never raises."""
    for multi in (False, True):
        assert 0.0 <= keyword_score(reply, keywords, multi_tool=multi) <= 1.0
