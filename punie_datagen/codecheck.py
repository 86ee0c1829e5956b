"""Static checks of one Code Mode code block against the registered tools."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Collection, Mapping

import attrs

from punie_datagen.attrcheck import attribute_errors
from punie_datagen.callstyle import HOISTED, hoist_first_call
from punie_tools.callsite import call_site, tool_call_nodes
from punie_tools.spec import ToolSpec

DIRECT_SUFFIX = "_direct"
_BUILTINS = frozenset(dir(builtins))


@attrs.frozen
class CodeCheck:
    """The (possibly repaired) code, the repairs made, the first problem found, and the
    registered tools the code calls, in source order."""

    code: str
    repairs: tuple[str, ...] = ()
    error: str | None = None
    calls: tuple[str, ...] = ()


def check_code(code: str, tools: Mapping[str, ToolSpec]) -> CodeCheck:
    """Check that code parses, imports nothing, calls only known tools correctly and reads
    only attributes its result types have; rename ``<tool>_direct`` calls to the tool and
    open the block with its first tool call as ``result = CALL`` (`punie_datagen.callstyle`)."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return CodeCheck(code, error=f"code does not parse: {exc.msg} (line {exc.lineno})")
    code, repairs = _rename_direct(code, tree, tools)
    hoisted = hoist_first_call(code, tools)
    if hoisted is not None:
        code = hoisted
        repairs.append(HOISTED)
    if repairs:
        tree = ast.parse(code)
    error = _first_error(tree, tools)
    return CodeCheck(code, tuple(repairs), error, _calls(tree, tools))


def _first_error(tree: ast.Module, tools: Mapping[str, ToolSpec]) -> str | None:
    defined = _defined_names(tree)
    calls = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            return f"line {node.lineno}: imports are not available in Code Mode"
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        name = node.func.id
        if name in tools and name not in defined:
            calls += 1
            problem = check_arguments(tools[name], node)
            if problem:
                return f"line {node.lineno}: {problem}"
        elif name not in defined and name not in _BUILTINS:
            return f"line {node.lineno}: calls {name}(), which is not a registered tool"
    if calls == 0:
        return "the code calls no registered tool"
    errors = attribute_errors(tree, tools)
    return errors[0] if errors else None


def calls_in_order(code: str, names: Collection[str]) -> list[str]:
    """The tools in ``names`` a code block calls, in source order (empty if it does not parse).

    For code not yet checked (template renderings, rejected examples); a checked block's
    calls are ``CodeCheck.calls``.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    return list(_calls(tree, names))


def _calls(tree: ast.Module, names: Collection[str]) -> tuple[str, ...]:
    """Calls by name of the tools in ``names``, in source order (line, then column)."""
    return tuple(c.func.id for c in tool_call_nodes(tree, names) if isinstance(c.func, ast.Name))


def check_arguments(spec: ToolSpec, node: ast.Call) -> str | None:
    """Why a call's arguments do not fit the tool's signature, or None if they fit.

    The arguments bind through ``ToolSpec.bind``; a non-literal one is bound but not
    type-checked, and a call with ``*``/``**`` unpacking is not checked at all.
    """
    if any(isinstance(a, ast.Starred) for a in node.args) or any(
        k.arg is None for k in node.keywords
    ):
        return None
    site = call_site(node)
    try:
        spec.bind(site.args, site.kwargs)
    except TypeError as exc:
        return str(exc)
    return None


def _defined_names(tree: ast.Module) -> set[str]:
    """Names the code binds itself (assignments, loop targets, functions, parameters)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def _rename_direct(
    code: str, tree: ast.Module, tools: Mapping[str, ToolSpec]
) -> tuple[str, list[str]]:
    """Rename calls to ``<tool>_direct`` (the original's direct-tool names) to the tool."""
    spots = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            bare = name.removesuffix(DIRECT_SUFFIX)
            if name.endswith(DIRECT_SUFFIX) and bare in tools:
                spots.append((node.func.lineno, node.func.col_offset, name, bare))
    if not spots:
        return code, []
    lines = code.splitlines(keepends=True)
    # Right to left, so earlier offsets on the same line stay valid.
    for lineno, col, name, bare in sorted(spots, reverse=True):
        line = lines[lineno - 1].encode()
        lines[lineno - 1] = (line[:col] + bare.encode() + line[col + len(name) :]).decode()
    renamed = sorted({f"renamed {name}() to {bare}()" for _, _, name, bare in spots})
    return "".join(lines), renamed
