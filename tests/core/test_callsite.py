"""Reading tool calls from Code Mode code (`punie_tools.callsite`) and binding them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from punie_eval.scoring import bind_call
from punie_tools import ToolSpec
from punie_tools.callsite import CallSite, called_tools, extract_calls
from punie_tools.spec import Unknown
from tests.toy_calls import identifiers, literals, toy_specs


@pytest.fixture(name="specs")
def fixture_specs() -> dict[str, ToolSpec]:
    """Two toy tool specs, one with an injected workspace and a default."""
    return toy_specs()


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


def test_bind_checks_types_unless_told_not_to_and_never_for_unknown_values(specs):
    """One binding: the sandbox checks types, the scorer does not, Unknown is never checked."""
    spec = specs["find_symbol"]
    with pytest.raises(TypeError, match="argument 'line' must be int"):
        spec.bind(("a.py", "X", "ten"), {})
    assert spec.bind(("a.py", "X", "ten"), {}, check_types=False)["line"] == "ten"
    assert spec.bind(("a.py", Unknown("name")), {})["symbol"] == Unknown("name")
    with pytest.raises(TypeError, match="multiple values for argument 'symbol'"):
        spec.bind(("a.py",), [("symbol", "X"), ("symbol", "Y")])
