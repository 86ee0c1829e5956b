"""CST code tools: find nodes by pattern, rename a binding, add an import (libcst, in-process)."""

from __future__ import annotations

import ast
import os
import tempfile
from pathlib import Path

import attrs
import libcst as cst

from punie_cst.imports import ImportSpecError, add_import
from punie_cst.patterns import PatternError, find_pattern
from punie_cst.rename import RenameError, rename
from punie_tools import Workspace, WorkspaceError

MAX_FILE_BYTES = 2_000_000


@attrs.frozen
class CstMatch:
    """One matching node: 1-based line, 0-based column, its first line and libcst type."""

    line: int
    column: int
    code_snippet: str
    node_type: str


@attrs.frozen
class CstFindResult:
    """The nodes of a file that match a pattern."""

    success: bool
    match_count: int
    matches: list[CstMatch] = attrs.field(factory=list)
    parse_error: str | None = None


@attrs.frozen
class CstRenameResult:
    """A scope-aware rename: how many names changed and the new source."""

    success: bool
    rename_count: int
    modified_source: str | None = None
    parse_error: str | None = None


@attrs.frozen
class CstAddImportResult:
    """An added import: whether the source changed and the new source."""

    success: bool
    import_added: bool
    modified_source: str | None = None
    parse_error: str | None = None


class _InputError(Exception):
    """The file cannot be used; the message is the parse_error."""


def _read(workspace: Workspace, file_path: str) -> tuple[Path, str]:
    try:
        path = workspace.resolve(file_path)
    except WorkspaceError as exc:
        raise _InputError(str(exc)) from None
    if not path.is_file():
        what = "a directory, not a file" if path.is_dir() else "not found"
        raise _InputError(f"{file_path!r} is {what} (paths are relative to the workspace)")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise _InputError(f"{file_path!r} is larger than {MAX_FILE_BYTES} bytes")
    try:
        return path, path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _InputError(f"cannot read {file_path!r}: {exc}") from None


def _syntax_error(file_path: str, source: str, exc: cst.ParserSyntaxError) -> str:
    """Python's own description of the syntax error (more precise than libcst's)."""
    try:
        ast.parse(source)
    except SyntaxError as err:
        return f"syntax error in {file_path} at line {err.lineno}, column {err.offset}: {err.msg}"
    except (ValueError, RecursionError, MemoryError):
        pass
    return f"libcst cannot parse {file_path} (line {exc.raw_line}): {exc.message}"


def _problem(exc: BaseException, file_path: str, source: str = "") -> str:
    """A one-line parse_error for anything the libcst work raised."""
    if isinstance(exc, cst.ParserSyntaxError):
        return _syntax_error(file_path, source, exc)
    if isinstance(exc, _InputError | PatternError | RenameError | ImportSpecError):
        return str(exc)
    if isinstance(exc, RecursionError):
        return f"{file_path} is nested too deeply for libcst to parse"
    return f"libcst could not process {file_path}: {type(exc).__name__}: {exc}"


def _write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so readers never see a half-written file."""
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cst_find_pattern(file_path: str, pattern: str, workspace: Workspace) -> CstFindResult:
    """Find the nodes of a Python file that match a pattern (node type, call:, decorator:, import:).

    Args:
        file_path: Python file relative to the workspace root.
        pattern: A node type (FunctionDef, ClassDef, Call, Decorator, Import, ImportFrom, Name,
            Attribute) or call:NAME, decorator:NAME, import:MODULE; NAME may be dotted
            (call:json.loads).
    """
    source = ""
    try:
        _, source = _read(workspace, file_path)
        found = find_pattern(source, pattern)
    except Exception as exc:
        return CstFindResult(False, 0, [], parse_error=_problem(exc, file_path, source))
    matches = [CstMatch(f.line, f.column, f.code_snippet, f.node_type) for f in found]
    return CstFindResult(True, len(matches), matches)


def cst_rename(
    file_path: str, old_name: str, new_name: str, workspace: Workspace, write: bool = False
) -> CstRenameResult:
    """Rename a variable, function, class or import and its references (scope-aware).

    Attribute names (obj.old_name), keyword arguments (f(old_name=1)), strings and comments
    are left alone. Returns the new source; the file changes only when write=True.

    Args:
        file_path: Python file relative to the workspace root.
        old_name: The name to rename.
        new_name: The new name (a valid identifier not already defined in the same scope).
        write: Also save the modified source to the file.
    """
    source = ""
    try:
        path, source = _read(workspace, file_path)
        result = rename(source, old_name, new_name)
        if write and result.source != source:
            _write_atomically(path, result.source)
    except Exception as exc:
        return CstRenameResult(False, 0, None, parse_error=_problem(exc, file_path, source))
    return CstRenameResult(True, result.count, result.source)


def cst_add_import(
    file_path: str, import_stmt: str, workspace: Workspace, write: bool = False
) -> CstAddImportResult:
    """Add an import to a Python file unless it is already imported (idempotent).

    Returns the new source; the file changes only when write=True.

    Args:
        file_path: Python file relative to the workspace root.
        import_stmt: "import X", "import X as Y" or "from X import a, b as c".
        write: Also save the modified source to the file.
    """
    source = ""
    try:
        path, source = _read(workspace, file_path)
        new_source = add_import(source, import_stmt)
        if write and new_source != source:
            _write_atomically(path, new_source)
    except Exception as exc:
        return CstAddImportResult(False, False, None, parse_error=_problem(exc, file_path, source))
    return CstAddImportResult(True, new_source != source, new_source)
