"""Tool calls read from Code Mode code: one `CallSite` per call of a registered tool.

The one extractor: the scorer reads the model's calls with it (module-level literal constants
resolved), datagen's code check reads the calls it validates (literals only). Binding a site to
the tool's parameters is `ToolSpec.bind`.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import attrs

from punie_tools.spec import Unknown


@attrs.frozen
class CallSite:
    """One call of a registered tool found in the code, with its literal arguments."""

    tool: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    line: int = 0
    unpacked: bool = False  # *args / **kwargs: the binding cannot be known


def _literal(node: ast.expr, constants: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return Unknown(ast.unparse(node))


def _constants(tree: ast.Module) -> dict[str, Any]:
    """Names bound exactly once, at module level, to a literal (``path = "src/app.py"``)."""
    bound: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            bound[node.id] = bound.get(node.id, 0) + 1
    out: dict[str, Any] = {}
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and bound.get(stmt.targets[0].id) == 1
        ):
            value = _literal(stmt.value, {})
            if not isinstance(value, Unknown):
                out[stmt.targets[0].id] = value
    return out


def tool_call_nodes(tree: ast.AST, tool_names: Collection[str]) -> list[ast.Call]:
    """Every call by name of a tool in `tool_names` under `tree`, in source order."""
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in tool_names
    ]
    return sorted(calls, key=lambda node: (node.lineno, node.col_offset))


def char_offset(code: str, line: int, byte_column: int) -> int:
    """Character offset in `code` of an ast position (1-based line, UTF-8 byte column)."""
    lines = code.split("\n")
    before = sum(len(text) + 1 for text in lines[: line - 1])
    return before + len(lines[line - 1].encode()[:byte_column].decode(errors="ignore"))


def extract_calls(code: str, tool_names: Collection[str]) -> list[CallSite] | None:
    """Every call of a registered tool in ``code``, in source order; None if it does not parse.

    Names bound once at module level to a literal count as that literal.
    """
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    constants = _constants(tree)
    sites = [
        call_site(node, constants)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in tool_names
    ]
    return sorted(sites, key=lambda s: s.line)


def call_site(node: ast.Call, constants: Mapping[str, Any] | None = None) -> CallSite:
    """The call `node` (of a tool by name) with its arguments read literally where they can be."""
    name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
    args, kwargs, unpacked = _arguments(node, constants or {})
    return CallSite(name, args, kwargs, line=node.lineno, unpacked=unpacked)


def _arguments(
    node: ast.Call, constants: Mapping[str, Any]
) -> tuple[tuple[Any, ...], tuple[tuple[str, Any], ...], bool]:
    """Positional and keyword arguments; ``*[...]``/``**{...}`` literals are expanded.

    The flag says some unpacking could not be read, so the binding is unknown.
    """
    args: list[Any] = []
    kwargs: list[tuple[str, Any]] = []
    unpacked = False
    for arg in node.args:
        if not isinstance(arg, ast.Starred):
            args.append(_literal(arg, constants))
            continue
        value = _literal(arg.value, constants)
        if isinstance(value, list | tuple):
            args += value
        else:
            unpacked = True
    for keyword in node.keywords:
        if keyword.arg is not None:
            kwargs.append((keyword.arg, _literal(keyword.value, constants)))
            continue
        value = _literal(keyword.value, constants)
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            kwargs += value.items()
        else:
            unpacked = True
    return tuple(args), tuple(kwargs), unpacked


def called_tools(sites: Iterable[CallSite]) -> tuple[str, ...]:
    """The distinct tool names called, in first-call order."""
    return tuple(dict.fromkeys(s.tool for s in sites))
