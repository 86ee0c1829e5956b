"""One way to open a code block: its first tool call assigned to ``result`` on its own line.

The examples open their code two ways: ``result = find_references(...)`` (most of the
foundation set and the templates' longer code) and ``print(find_references(...).count)`` (the
templates' short code). The tool name is then spelled by different tokens (`` find`` after
``=``, ``find`` after ``(``; `` c``/``c`` for the CST tools), and which opening a request gets
goes with its category, so the opening itself votes for a category before the model names a
tool. `hoist_first_call` rewrites a block so that its first tool call is the whole value of a
top-level ``result = `` and the statement that used it reads ``result`` instead: the same
calls run in the same order and print the same output.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Collection

from punie_tools.callsite import char_offset, tool_call_nodes

RESULT = "result"
HOISTED = "first tool call assigned to `result`"
"""The repair's description in the manifest."""


def hoist_first_call(code: str, tool_names: Collection[str]) -> str | None:
    """The code with its first tool call hoisted into ``result = CALL``; None to leave it.

    Left as it is: code already opening its first call that way (any variable name), code
    that uses the name ``result`` anywhere, and calls that are not evaluated exactly once,
    first, in a top-level statement (inside a loop body, a function, a lambda, a
    comprehension's element, a branch or an f-string).
    """
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if any(isinstance(node, ast.Name) and node.id == RESULT for node in ast.walk(tree)):
        return None
    found = _first_call(tree, tool_names)
    if found is None:
        return None
    statement, call = found
    if _assigned_to(statement, call) is not None or not _evaluated_once_first(statement, call):
        return None
    begin = char_offset(code, statement.lineno, statement.col_offset)
    call_begin = char_offset(code, call.lineno, call.col_offset)
    call_end = char_offset(code, call.end_lineno or call.lineno, call.end_col_offset or 0)
    call_source = code[call_begin:call_end]
    rewritten = (
        f"{code[:begin]}{RESULT} = {call_source}\n{code[begin:call_begin]}{RESULT}{code[call_end:]}"
    )
    return rewritten if _same_call(rewritten, call, tool_names) else None


def _first_call(tree: ast.Module, names: Collection[str]) -> tuple[ast.stmt, ast.Call] | None:
    """The top-level statement holding the first tool call (by position), and that call."""
    for statement in tree.body:
        calls = tool_call_nodes(statement, names)
        if calls:
            return statement, calls[0]
    return None


def _assigned_to(statement: ast.stmt, call: ast.Call) -> str | None:
    """NAME when the statement is already ``NAME = CALL``, else None."""
    if isinstance(statement, ast.Assign) and statement.value is call:
        target = statement.targets[0] if len(statement.targets) == 1 else None
        return target.id if isinstance(target, ast.Name) else None
    return None


def _evaluated_once_first(statement: ast.stmt, call: ast.Call) -> bool:
    """Whether the call runs exactly once when the statement runs, before anything it reads
    could change: on a path of plain expressions, a ``for`` statement's iterable, or the first
    iterable of a comprehension, and nowhere the rewrite by offsets could go wrong."""
    path = _path(statement, call)
    if path is None or not isinstance(statement, ast.Expr | ast.Assign | ast.For):
        return False
    if isinstance(statement, ast.For) and (len(path) < 2 or path[1] is not statement.iter):
        return False
    for parent, child in itertools.pairwise(path):
        if isinstance(parent, ast.Lambda | ast.IfExp | ast.JoinedStr | ast.NamedExpr):
            return False
        if isinstance(parent, ast.BoolOp) and child is not parent.values[0]:
            return False
        comprehension = ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
        if isinstance(parent, comprehension) and child is not parent.generators[0]:
            return False
        if isinstance(parent, ast.comprehension) and child is not parent.iter:
            return False
        if isinstance(parent, ast.Call) and parent is not call and _calls_before(parent, child):
            return False
    return True


def _calls_before(parent: ast.Call, child: ast.AST) -> bool:
    """Whether an argument evaluated before `child` in this call calls anything."""
    for argument in [*parent.args, *(keyword.value for keyword in parent.keywords)]:
        if argument is child:
            return False
        if any(isinstance(node, ast.Call) for node in ast.walk(argument)):
            return True
    return False


def _path(root: ast.AST, target: ast.AST) -> list[ast.AST] | None:
    """The nodes from `root` down to `target`, both included."""
    if root is target:
        return [root]
    for child in ast.iter_child_nodes(root):
        below = _path(child, target)
        if below is not None:
            return [root, *below]
    return None


def _same_call(rewritten: str, call: ast.Call, names: Collection[str]) -> bool:
    """Whether the rewrite parses and opens with ``result = `` the very call it hoisted."""
    try:
        tree = ast.parse(rewritten)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    found = _first_call(tree, names)
    if found is None:
        return False
    statement, first = found
    return _assigned_to(statement, first) == RESULT and ast.dump(first) == ast.dump(call)
