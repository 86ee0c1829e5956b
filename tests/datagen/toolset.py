"""A few typed tools for validator tests (no plugin loading needed)."""

from __future__ import annotations

import attrs

from punie_tools import ToolSpec, Workspace


@attrs.frozen
class Location:
    """A place in a file."""

    file: str
    line: int


@attrs.frozen
class HoverResult:
    """Hover text at a position."""

    success: bool
    symbol: str
    content: str | None = None
    language: str | None = None
    locations: list[Location] = attrs.field(factory=list)
    parse_error: str | None = None


def hover(file_path: str, line: int, column: int, symbol: str, ws: Workspace) -> HoverResult:
    """Hover over a symbol."""
    return HoverResult(True, symbol, content=f"{file_path}:{line}:{column}")


def git_log(ws: Workspace, path: str = ".", count: int = 10) -> str:
    """Recent commits."""
    return f"{count} commits in {path}"


def tags(names: list[str], ws: Workspace) -> str:
    """Join names."""
    return ",".join(names)


TOOLS = {
    s.name: s
    for s in (
        ToolSpec.from_function(hover, category="lsp"),
        ToolSpec.from_function(git_log, category="git"),
        ToolSpec.from_function(tags, category="text"),
    )
}
