"""Tests of the eval scoring: AST call extraction, argument binding and normalisation, keywords."""

from __future__ import annotations

import keyword

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from punie_tools import ExpectedCall, ToolSpec, Workspace
from punie_tools.codemode import format_tool_call
from punie_train.scoring import (
    CallSite,
    Unknown,
    arg_matches,
    bind_call,
    called_tools,
    expected_call_met,
    extract_calls,
    keyword_score,
    normalize_path,
    normalize_value,
)


@attrs.frozen
class FindResult:
    """Where a symbol is."""

    success: bool
    parse_error: str | None = None


def find_symbol(file_path: str, symbol: str, workspace: Workspace, line: int = 1) -> FindResult:
    """Find a symbol in a file."""
    return FindResult(True)


def git_status(path: str = ".") -> FindResult:
    """Status of the repository."""
    return FindResult(True)


@pytest.fixture(name="specs")
def fixture_specs() -> dict[str, ToolSpec]:
    """Two toy tool specs, one with an injected workspace and a default."""
    return {
        "find_symbol": ToolSpec.from_function(find_symbol, category="toy"),
        "git_status": ToolSpec.from_function(git_status, category="toy"),
    }


identifiers = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s)
)
literals = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=6,
)


@given(
    tool=identifiers,
    args=st.lists(literals, max_size=3),
    kwargs=st.dictionaries(identifiers, literals, max_size=3),
)
def test_extract_calls_round_trips_literal_arguments(tool, args, kwargs):
    """A call written from literals is read back with the same tool, args and kwargs."""
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    code = f"r = {tool}({', '.join(parts)})\nprint(r)"
    sites = extract_calls(code, {tool})
    assert sites == [CallSite(tool, tuple(args), tuple(kwargs.items()), line=1)]


@given(names=st.lists(identifiers, min_size=1, max_size=5, unique=True))
def test_extract_calls_keeps_only_registered_tools_in_order(names):
    """Only registered names count as tool calls, in source order."""
    tools = set(names[::2])
    code = "\n".join(f"x{i} = {name}()" for i, name in enumerate(names))
    assert called_tools(extract_calls(code, tools) or []) == tuple(n for n in names if n in tools)


def test_extract_calls_finds_nested_calls_and_ignores_methods():
    """Calls inside prints and f-strings count; ``obj.tool()`` does not."""
    code = 'print(git_status("src").success)\nx = obj.find_symbol("a")\nprint(f"{git_status()}")'
    sites = extract_calls(code, {"git_status", "find_symbol"})
    assert [(s.tool, s.args) for s in sites or []] == [("git_status", ("src",)), ("git_status", ())]


def test_extract_calls_resolves_constants_assigned_once():
    """A variable bound once to a literal is seen through; a loop variable is Unknown."""
    code = 'p = "src/app.py"\nr = git_status(p)\nfor f in ["a"]:\n    git_status(f)'
    sites = extract_calls(code, {"git_status"}) or []
    assert sites[0].args == ("src/app.py",)
    assert sites[1].args == (Unknown("f"),)


def test_extract_calls_expands_literal_unpacking(specs):
    """``*[...]`` and ``**{...}`` literals bind like written-out arguments; others do not."""
    code = 'a = find_symbol(*["a.py"], **{"symbol": "X"})\nb = find_symbol(*paths, **opts)'
    first, second = extract_calls(code, set(specs)) or []
    assert bind_call(specs["find_symbol"], first) == {"file_path": "a.py", "symbol": "X", "line": 1}
    assert second.unpacked
    assert bind_call(specs["find_symbol"], second) is None


def test_extract_calls_returns_none_for_syntax_errors():
    """Code that does not parse has no calls to read."""
    assert extract_calls("r = git_status(", {"git_status"}) is None


def test_bind_call_binds_positional_and_fills_defaults(specs):
    """Positional args bind in signature order (workspace hidden) and defaults fill in."""
    site = CallSite("find_symbol", ("a.py", "Card"))
    assert bind_call(specs["find_symbol"], site) == {
        "file_path": "a.py",
        "symbol": "Card",
        "line": 1,
    }


@pytest.mark.parametrize(
    "site",
    [
        CallSite("find_symbol", ("a.py",)),
        CallSite("find_symbol", ("a.py", "X", 1, 2)),
        CallSite("find_symbol", ("a.py", "X"), (("file_path", "b.py"),)),
        CallSite("find_symbol", ("a.py", "X"), (("nope", 1),)),
        CallSite("find_symbol", ("a.py", "X"), unpacked=True),
    ],
)
def test_bind_call_rejects_what_python_rejects(specs, site):
    """Missing, extra, duplicate, unknown or unpacked arguments do not bind."""
    assert bind_call(specs["find_symbol"], site) is None


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
