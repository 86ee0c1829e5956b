"""A fast read-only traversal that calls a CSTVisitor's visit_/leave_ methods.

``node.visit(visitor)`` rebuilds every node it passes (libcst's visitor protocol also
serves transformers), which costs about as much as parsing; reading the dataclass fields
directly is several times faster. Pre-order, parents before children, iterative (deep
trees cannot overflow the stack), and ``visit_X`` returning False skips the children but
still calls ``leave_X``, as libcst does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import libcst as cst

# Fields holding only whitespace, parentheses and punctuation: never interesting here.
_SKIPPED = frozenset(
    {
        "lpar",
        "rpar",
        "comma",
        "semicolon",
        "colon",
        "equal",
        "dot",
        "star",
        "leading_lines",
        "lines_after_decorators",
        "trailing_whitespace",
        "header",
        "footer",
        "newline",
        "asynchronous",
    }
)
# Source order where libcst's field order differs (decorators come first, the body last).
_RANK = {"decorators": 0, "name": 1, "bases": 2, "keywords": 3, "params": 2, "returns": 3}
_LATE = {"body": 8, "orelse": 9, "handlers": 9, "finalbody": 10}

_fields: dict[type, tuple[str, ...]] = {}
_methods: dict[tuple[type, type, str], Callable[..., Any] | None] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    names = _fields.get(cls)
    if names is None:
        declared = [
            name
            for name in getattr(cls, "__dataclass_fields__", {})
            if name not in _SKIPPED and not name.startswith("whitespace")
        ]
        ranked = sorted(
            enumerate(declared), key=lambda p: (_RANK.get(p[1], _LATE.get(p[1], 5)), p[0])
        )
        names = _fields[cls] = tuple(name for _, name in ranked)
    return names


def _method(visitor: cst.CSTVisitor, node_cls: type, prefix: str) -> Callable[..., Any] | None:
    """The visitor class's own (unbound) visit_/leave_ method for a node class, if any."""
    key = (type(visitor), node_cls, prefix)
    if key not in _methods:
        name = prefix + node_cls.__name__
        own = getattr(type(visitor), name, None)
        # CSTVisitor defines a do-nothing method for every node type; skip those.
        _methods[key] = own if own is not getattr(cst.CSTVisitor, name, None) else None
    return _methods[key]


def walk(root: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """Call ``visitor``'s visit_/leave_ methods over ``root`` and everything below it."""
    stack: list[tuple[cst.CSTNode, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        cls = type(node)
        if leaving:
            leave = _method(visitor, cls, "leave_")
            if leave is not None:
                leave(visitor, node)
            continue
        visit = _method(visitor, cls, "visit_")
        descend = visit(visitor, node) if visit is not None else True
        stack.append((node, True))
        if descend is False:
            continue
        children: list[cst.CSTNode] = []
        for name in _child_fields(cls):
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                children.append(value)
            elif isinstance(value, tuple | list):
                children.extend(v for v in value if isinstance(v, cst.CSTNode))
        stack.extend((child, False) for child in reversed(children))
