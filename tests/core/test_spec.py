"""ToolSpec derived from typed functions: signature, schema, stub and argument check."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from punie_tools import SpecError, ToolSpec, Workspace
from punie_tools.stubs import stubs


@attrs.frozen
class Item:
    """An item."""

    name: str


@attrs.frozen
class CountResult:
    """How many."""

    success: bool
    count: int
    items: list[Item]
    parse_error: str | None = None


def count_things(path: str, limit: int = 10, workspace: Workspace | None = None) -> CountResult:
    """Count things in a path.

    Args:
        path: where to look
        limit: at most this many
    """
    return CountResult(True, 0, [])


def count_things_ws(path: str, workspace: Workspace) -> CountResult:
    """Count things."""
    return CountResult(True, 0, [])


def test_signature_and_schema_come_from_the_function() -> None:
    """Name, summary, parameters and schema are derived, not written twice."""
    spec = ToolSpec.from_function(count_things_ws, category="c")
    assert spec.signature() == "count_things_ws(path: str) -> CountResult"
    assert spec.injected == ("workspace",)
    full = ToolSpec.from_function(count_things, category="c")
    assert full.summary == "Count things in a path."
    schema = full.json_schema()
    assert schema["required"] == ["path"]
    assert schema["properties"]["limit"] == {
        "type": "integer",
        "description": "at most this many",
        "default": 10,
    }


def test_stubs_list_result_fields() -> None:
    """Stubs declare each reachable result class with its fields, then the functions."""
    text = stubs([ToolSpec.from_function(count_things_ws, category="c")])
    assert "class Item:" in text
    assert "    items: list[Item]" in text
    assert "def count_things_ws(path: str) -> CountResult:" in text
    compile(text, "stubs", "exec")


def test_functions_without_docstring_or_hints_are_refused() -> None:
    """A tool without a docstring or type hints cannot be registered."""

    def nodoc(x: int) -> int:
        return x

    def nohint(x) -> int:
        """Doc."""
        return x

    with pytest.raises(SpecError, match="no docstring"):
        ToolSpec.from_function(nodoc, category="c")
    with pytest.raises(SpecError, match="no type hint"):
        ToolSpec.from_function(nohint, category="c")


SPEC = ToolSpec.from_function(count_things_ws, category="c")


@given(st.one_of(st.text(), st.integers(), st.none(), st.lists(st.text())))
def test_bind_accepts_only_fitting_values(value: object) -> None:
    """bind() accepts a str path and rejects anything else with a TypeError naming the tool."""
    if isinstance(value, str):
        assert SPEC.bind((value,), {}) == {"path": value}
    else:
        with pytest.raises(TypeError, match="count_things_ws"):
            SPEC.bind((value,), {})


@given(st.dictionaries(st.text(min_size=1), st.integers(), max_size=3))
def test_bind_rejects_unknown_keywords(kwargs: dict[str, int]) -> None:
    """Unknown keyword arguments are refused."""
    kwargs.pop("path", None)
    if kwargs:
        with pytest.raises(TypeError, match="unexpected keyword"):
            SPEC.bind(("x",), kwargs)
