"""Toy tools and hypothesis strategies for the call-reading and scoring tests."""

from __future__ import annotations

import keyword

import attrs
from hypothesis import strategies as st

from punie_tools import ToolSpec, Workspace


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


def toy_specs() -> dict[str, ToolSpec]:
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
