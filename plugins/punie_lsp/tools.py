"""goto_definition, find_references, hover, document_symbols and workspace_symbols over LSP.

Each tool asks the workspace's language server (``ty server``, see the package docstring)
through ``LspSession``; lines and columns are 1-based in and out, paths workspace-relative,
and bad input comes back as ``success=False`` with a ``parse_error``, never an exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from punie_lsp.client import LspClient, LspError, LspSession
from punie_lsp.files import read_source
from punie_lsp.positions import PositionError, from_units, locate, split_lines, to_units
from punie_lsp.results import (
    DefinitionLocation,
    DocumentSymbolsResult,
    FindReferencesResult,
    GotoDefinitionResult,
    HoverResult,
    ReferenceLocation,
    SymbolInfo,
    WorkspaceSymbol,
    WorkspaceSymbolsResult,
)
from punie_tools import Workspace, WorkspaceError

__all__ = [
    "DefinitionLocation",
    "DocumentSymbolsResult",
    "FindReferencesResult",
    "GotoDefinitionResult",
    "HoverResult",
    "ReferenceLocation",
    "SymbolInfo",
    "WorkspaceSymbol",
    "WorkspaceSymbolsResult",
    "document_symbols",
    "find_references",
    "goto_definition",
    "hover",
    "lsp_session",
    "workspace_symbols",
]

RESOURCE_KEY = "lsp"


class ToolInputError(ValueError):
    """An argument the tools cannot use (missing file, not Python, empty query)."""


_FAILURES = (LspError, PositionError, WorkspaceError, ToolInputError)


def lsp_session(workspace: Workspace) -> LspSession:
    """The workspace's language-server session (created on first use, closed with it)."""
    return workspace.resource(RESOURCE_KEY, lambda: LspSession(workspace.root))


def _source(workspace: Workspace, file_path: str) -> tuple[Path, str]:
    """Resolve and read a Python file of the workspace; ToolInputError if unusable."""
    path = workspace.resolve(file_path)
    if not path.exists():
        raise ToolInputError(f"file not found: {file_path}")
    if not path.is_file():
        raise ToolInputError(f"not a file: {file_path}")
    if path.suffix not in (".py", ".pyi"):
        raise ToolInputError(f"not a Python file: {file_path} (expected .py or .pyi)")
    try:
        return path, read_source(path)
    except UnicodeDecodeError:
        raise ToolInputError(f"{file_path} is not UTF-8 text") from None
    except OSError as exc:
        raise ToolInputError(f"cannot read {file_path}: {exc.strerror}") from None


def _position_request(
    workspace: Workspace, file_path: str, line: int, column: int, symbol: str
) -> tuple[LspClient, Path, lsp.Position]:
    """Validate the arguments, then start (or reuse) the server and map the position."""
    path, text = _source(workspace, file_path)
    pos = locate(text, line, column, symbol, label=file_path)
    client = lsp_session(workspace).client()
    row = split_lines(text)[pos.line]
    return (
        client,
        path,
        lsp.Position(line=pos.line, character=to_units(row, pos.index, client.encoding)),
    )


class _Converter:
    """Turns the server's URIs and 0-based positions into workspace paths and 1-based ones."""

    def __init__(self, workspace: Workspace, client: LspClient) -> None:
        self.workspace = workspace
        self.client = client
        self._lines: dict[Path, list[str] | None] = {}

    def path(self, uri: str) -> Path | None:
        fs_path = to_fs_path(uri)
        return Path(fs_path) if fs_path else None

    def label(self, uri: str) -> str:
        path = self.path(uri)
        return self.workspace.relative(path) if path is not None else uri

    def line_text(self, uri: str, line: int) -> str | None:
        path = self.path(uri)
        if path is None:
            return None
        if path not in self._lines:
            self._lines[path] = self.client.files.lines(path)
        lines = self._lines[path]
        return lines[line] if lines is not None and 0 <= line < len(lines) else None

    def point(self, uri: str, pos: lsp.Position) -> tuple[int, int]:
        """1-based line and code-point column."""
        text = self.line_text(uri, pos.line)
        index = from_units(text, pos.character, self.client.encoding) if text else pos.character
        return pos.line + 1, index + 1

    def preview(self, uri: str, line: int) -> str | None:
        text = self.line_text(uri, line)
        return text.strip() if text is not None else None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, Sequence) else [value]


def goto_definition(
    file_path: str, line: int, column: int, symbol: str, workspace: Workspace
) -> GotoDefinitionResult:
    """Find where the symbol at a position is defined.

    Args:
        file_path: Python file containing a use of the symbol (workspace-relative).
        line: 1-based line of the symbol.
        column: 1-based column on that line (0 means the start of the line).
        symbol: the symbol's name; if the position misses it, it is searched on the line,
            then in the file.
    """
    try:
        client, path, pos = _position_request(workspace, file_path, line, column, symbol)
        answer = client.request(
            lsp.TEXT_DOCUMENT_DEFINITION,
            lsp.DefinitionParams(lsp.TextDocumentIdentifier(path.as_uri()), pos),
            path,
        )
    except _FAILURES as exc:
        return GotoDefinitionResult(success=False, symbol=symbol, parse_error=str(exc))
    conv = _Converter(workspace, client)
    locations = []
    for item in _as_list(answer):
        if isinstance(item, lsp.LocationLink):
            uri, rng = item.target_uri, item.target_selection_range
        else:
            uri, rng = item.uri, item.range
        start_line, start_col = conv.point(uri, rng.start)
        end_line, end_col = conv.point(uri, rng.end)
        locations.append(
            DefinitionLocation(
                file=conv.label(uri),
                line=start_line,
                column=start_col,
                end_line=end_line,
                end_column=end_col,
                preview=conv.preview(uri, rng.start.line),
            )
        )
    return GotoDefinitionResult(success=bool(locations), symbol=symbol, locations=locations)


def find_references(
    file_path: str, line: int, column: int, symbol: str, workspace: Workspace
) -> FindReferencesResult:
    """Find every reference to the symbol at a position, its definition included.

    Args:
        file_path: Python file containing the symbol (workspace-relative).
        line: 1-based line of the symbol.
        column: 1-based column on that line (0 means the start of the line).
        symbol: the symbol's name; if the position misses it, it is searched on the line,
            then in the file.
    """
    try:
        client, path, pos = _position_request(workspace, file_path, line, column, symbol)
        answer = client.request(
            lsp.TEXT_DOCUMENT_REFERENCES,
            lsp.ReferenceParams(
                text_document=lsp.TextDocumentIdentifier(path.as_uri()),
                position=pos,
                context=lsp.ReferenceContext(include_declaration=True),
            ),
            path,
        )
    except _FAILURES as exc:
        return FindReferencesResult(success=False, symbol=symbol, parse_error=str(exc))
    conv = _Converter(workspace, client)
    found: dict[tuple[str, int, int], ReferenceLocation] = {}
    for item in _as_list(answer):
        ref_line, ref_col = conv.point(item.uri, item.range.start)
        ref = ReferenceLocation(
            file=conv.label(item.uri),
            line=ref_line,
            column=ref_col,
            preview=conv.preview(item.uri, item.range.start.line),
        )
        found.setdefault((ref.file, ref.line, ref.column), ref)
    refs = [found[k] for k in sorted(found)]
    return FindReferencesResult(
        success=bool(refs), symbol=symbol, reference_count=len(refs), references=refs
    )


def hover(file_path: str, line: int, column: int, symbol: str, workspace: Workspace) -> HoverResult:
    """Show the type, signature and docstring of the symbol at a position.

    Args:
        file_path: Python file containing the symbol (workspace-relative).
        line: 1-based line of the symbol.
        column: 1-based column on that line (0 means the start of the line).
        symbol: the symbol's name; if the position misses it, it is searched on the line,
            then in the file.
    """
    try:
        client, path, pos = _position_request(workspace, file_path, line, column, symbol)
        answer = client.request(
            lsp.TEXT_DOCUMENT_HOVER,
            lsp.HoverParams(lsp.TextDocumentIdentifier(path.as_uri()), pos),
            path,
        )
    except _FAILURES as exc:
        return HoverResult(success=False, symbol=symbol, parse_error=str(exc))
    content, language = _hover_text(answer.contents if answer is not None else None)
    return HoverResult(success=bool(content), symbol=symbol, content=content, language=language)


def _hover_text(contents: Any) -> tuple[str | None, str | None]:
    """Text and language of hover contents (MarkupContent, MarkedString or a list of them)."""
    if contents is None:
        return None, None
    if isinstance(contents, lsp.MarkupContent):
        text = contents.value.strip()
        return text or None, str(contents.kind.value) if text else None
    parts: list[str] = []
    language: str | None = None
    for item in _as_list(contents) if not isinstance(contents, str) else [contents]:
        if isinstance(item, str):
            parts.append(item)
            language = language or "markdown"
        else:
            parts.append(item.value)
            language = language or item.language
    text = "\n\n".join(p.strip() for p in parts if p.strip())
    return (text, language) if text else (None, None)


def document_symbols(file_path: str, workspace: Workspace) -> DocumentSymbolsResult:
    """List the classes, functions, methods and variables defined in a file, nested.

    Args:
        file_path: Python file to outline (workspace-relative).
    """
    try:
        path, _ = _source(workspace, file_path)
        client = lsp_session(workspace).client()
        answer = _outline(client, path)
    except _FAILURES as exc:
        return DocumentSymbolsResult(success=False, file_path=file_path, parse_error=str(exc))
    symbols = [_symbol_info(s) for s in answer]
    count = sum(_count(s) for s in symbols)
    return DocumentSymbolsResult(
        success=bool(symbols),
        file_path=workspace.relative(path),
        symbols=symbols,
        symbol_count=count,
    )


def _outline(client: LspClient, path: Path) -> list[Any]:
    params = lsp.DocumentSymbolParams(lsp.TextDocumentIdentifier(path.as_uri()))
    return _as_list(client.request(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL, params, path))


def _symbol_info(sym: Any) -> SymbolInfo:
    if isinstance(sym, lsp.DocumentSymbol):
        return SymbolInfo(
            name=sym.name,
            kind=int(sym.kind),
            line=sym.selection_range.start.line + 1,
            end_line=sym.range.end.line + 1,
            children=[_symbol_info(c) for c in sym.children or ()],
        )
    rng = sym.location.range
    return SymbolInfo(
        name=sym.name, kind=int(sym.kind), line=rng.start.line + 1, end_line=rng.end.line + 1
    )


def _count(sym: SymbolInfo) -> int:
    return 1 + sum(_count(c) for c in sym.children)


def workspace_symbols(query: str, workspace: Workspace) -> WorkspaceSymbolsResult:
    """Search the whole workspace for symbols whose names match a (partial) query.

    Args:
        query: name or part of a name, e.g. "Warehouse" or "order".
    """
    try:
        if not query.strip():
            raise ToolInputError("query is empty: give a symbol name or part of one")
        client = lsp_session(workspace).client()
        answer = _as_list(
            client.request(lsp.WORKSPACE_SYMBOL, lsp.WorkspaceSymbolParams(query=query.strip()))
        )
        conv = _Converter(workspace, client)
        outlines: dict[str, dict[tuple[str, int], tuple[int, str | None]]] = {}
        symbols = []
        for item in answer:
            uri = item.location.uri
            start = getattr(item.location, "range", None)
            line0 = start.start.line if start is not None else 0
            if uri not in outlines:
                outlines[uri] = _outline_index(client, conv.path(uri))
            name_line, parent = outlines[uri].get((item.name, line0), (line0, None))
            symbols.append(
                WorkspaceSymbol(
                    name=item.name,
                    kind=int(item.kind),
                    file=conv.label(uri),
                    line=name_line + 1,
                    container_name=item.container_name or parent,
                )
            )
    except _FAILURES as exc:
        return WorkspaceSymbolsResult(success=False, query=query, parse_error=str(exc))
    # The server's order within a rank follows its parallel indexing, which machine load
    # reorders; file and line make the answer the same every time.
    symbols.sort(key=lambda s: (_match_rank(s.name, query.strip()), s.file, s.line, s.name))
    return WorkspaceSymbolsResult(
        success=bool(symbols), query=query, symbols=symbols, symbol_count=len(symbols)
    )


def _match_rank(name: str, query: str) -> int:
    """Exact, then case-insensitive, prefix and substring matches before fuzzy ones."""
    low_name, low_query = name.lower(), query.lower()
    if name == query:
        return 0
    if low_name == low_query:
        return 1
    if low_name.startswith(low_query):
        return 2
    return 3 if low_query in low_name else 4


def _outline_index(
    client: LspClient, path: Path | None
) -> dict[tuple[str, int], tuple[int, str | None]]:
    """(name, first line of its range or name) -> (line of the name, enclosing symbol's name).

    Some servers (ty) give workspace symbols the full range, which starts at a decorator,
    and no container; the file's outline supplies the name's line and the container.
    """
    index: dict[tuple[str, int], tuple[int, str | None]] = {}
    if path is None or not path.is_file():
        return index

    def walk(syms: list[Any], parent: str | None) -> None:
        for sym in syms:
            if not isinstance(sym, lsp.DocumentSymbol):
                continue
            entry = (sym.selection_range.start.line, parent)
            index.setdefault((sym.name, sym.range.start.line), entry)
            index.setdefault((sym.name, sym.selection_range.start.line), entry)
            walk(list(sym.children or ()), sym.name)

    try:
        walk(_outline(client, path), None)
    except LspError:
        return {}
    return index
