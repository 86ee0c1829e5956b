"""Result classes of the LSP tools (field names as in the reference; lines and columns 1-based)."""

from __future__ import annotations

import attrs


@attrs.frozen
class DefinitionLocation:
    """Where a symbol is defined: workspace-relative file, start and end, and the source line."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    preview: str | None = None


@attrs.frozen
class GotoDefinitionResult:
    """The definitions of the symbol at a position."""

    success: bool
    symbol: str
    locations: list[DefinitionLocation] = attrs.field(factory=list)
    parse_error: str | None = None


@attrs.frozen
class ReferenceLocation:
    """One use of a symbol, with its source line."""

    file: str
    line: int
    column: int
    preview: str | None = None


@attrs.frozen
class FindReferencesResult:
    """Every reference to the symbol at a position (its declaration included)."""

    success: bool
    symbol: str
    reference_count: int = 0
    references: list[ReferenceLocation] = attrs.field(factory=list)
    parse_error: str | None = None


@attrs.frozen
class HoverResult:
    """The server's hover text (signature, type, docstring) for the symbol at a position."""

    success: bool
    symbol: str
    content: str | None = None
    language: str | None = None
    parse_error: str | None = None


@attrs.frozen
class SymbolInfo:
    """A symbol defined in a file, with its nested symbols (kind is the LSP SymbolKind)."""

    name: str
    kind: int
    line: int
    end_line: int
    children: list[SymbolInfo] = attrs.field(factory=list)


@attrs.frozen
class DocumentSymbolsResult:
    """The outline of one file: top-level symbols, each with its children."""

    success: bool
    file_path: str
    symbols: list[SymbolInfo] = attrs.field(factory=list)
    symbol_count: int = 0
    parse_error: str | None = None


@attrs.frozen
class WorkspaceSymbol:
    """A symbol found by name anywhere in the workspace."""

    name: str
    kind: int
    file: str
    line: int
    container_name: str | None = None


@attrs.frozen
class WorkspaceSymbolsResult:
    """The workspace's symbols whose names match a query."""

    success: bool
    query: str
    symbols: list[WorkspaceSymbol] = attrs.field(factory=list)
    symbol_count: int = 0
    parse_error: str | None = None
