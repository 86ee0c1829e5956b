"""A small ast type inference that finds attribute reads missing from tool result types.

Variables assigned from a tool call get its result type, loop variables over list fields
get the element type, and ``.attr`` chains follow the attrs field hints. Anything it
cannot follow becomes "unknown" and is not checked, so it never rejects valid code.
"""

from __future__ import annotations

import ast
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any

import attrs

from punie_tools.spec import ToolSpec

Env = dict[str, Any]
_UNKNOWN: Any = None
_SAME_LIST = frozenset({"sorted", "list", "reversed", "tuple"})
_ELEMENT_OF = frozenset({"max", "min", "next"})


def attribute_errors(tree: ast.Module, tools: Mapping[str, ToolSpec]) -> list[str]:
    """Every attribute read on a known result type that the type does not have."""
    checker = _Checker(tools)
    checker.block(tree.body, {})
    return checker.errors


def _list_of(element: Any) -> Any:
    """``list[element]`` built at run time (an inferred type, not an annotation)."""
    return types.GenericAlias(list, (element,))


def _simplify(annotation: Any) -> Any:
    """Drop ``None`` from an optional type; unknown for real unions and typing constructs."""
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _simplify(rest[0]) if len(rest) == 1 else _UNKNOWN
    if origin in (list, tuple, dict, set, frozenset):
        return annotation
    if isinstance(annotation, type) and annotation is not type(None):
        return annotation
    return _UNKNOWN


def _element(annotation: Any) -> Any:
    """The element type of ``list[X]`` (and ``tuple[X, ...]``), else unknown."""
    if typing.get_origin(annotation) in (list, tuple, set, frozenset):
        args = typing.get_args(annotation)
        return _simplify(args[0]) if args else _UNKNOWN
    if annotation is str:
        return str
    return _UNKNOWN


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception:  # unresolvable hints only make the inference give up
        return {}


def _member(cls: type, name: str) -> tuple[bool, Any]:
    """(exists, type) of ``cls.name``; the type is unknown for methods and properties."""
    base = typing.get_origin(cls) or cls
    if attrs.has(base):
        fields = attrs.fields_dict(base)
        if name in fields:
            return True, _simplify(_hints(base).get(name, _UNKNOWN))
    return hasattr(base, name), _UNKNOWN


def _describe(cls: Any) -> str:
    base = typing.get_origin(cls) or cls
    return getattr(base, "__name__", str(cls))


class _Checker:
    def __init__(self, tools: Mapping[str, ToolSpec]) -> None:
        self.tools = tools
        self.errors: list[str] = []

    def block(self, body: list[ast.stmt], env: Env) -> None:
        for stmt in body:
            self.stmt(stmt, env)

    def stmt(self, node: ast.stmt, env: Env) -> None:
        if isinstance(node, ast.Assign):
            value = self.expr(node.value, env)
            for target in node.targets:
                self.bind(target, node.value, value, env)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            value = self.expr(node.value, env) if node.value is not None else _UNKNOWN
            if isinstance(node, ast.AnnAssign) and node.value is not None:
                self.bind(node.target, node.value, value, env)
            elif not isinstance(node.target, ast.Name):
                self.expr(node.target, env)
        elif isinstance(node, ast.For | ast.AsyncFor):
            self.bind_loop(node.target, node.iter, env)
            self.block(node.body, env)
            self.block(node.orelse, env)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inner = dict(env)
            for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
                inner[arg.arg] = _UNKNOWN
            self.block(node.body, inner)
            env[node.name] = _UNKNOWN
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child, env)
                elif isinstance(child, ast.stmt):
                    self.stmt(child, env)
                elif isinstance(child, ast.excepthandler | ast.withitem | ast.match_case):
                    self._generic(child, env)

    def _generic(self, node: ast.AST, env: Env) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child, env)
            elif isinstance(child, ast.stmt):
                self.stmt(child, env)
        if isinstance(node, ast.ExceptHandler) and node.name:
            env[node.name] = _UNKNOWN
        if isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
            env[node.optional_vars.id] = _UNKNOWN

    def bind(self, target: ast.expr, value_node: ast.expr, value: Any, env: Env) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            values = value_node.elts if isinstance(value_node, ast.Tuple | ast.List) else None
            for i, elt in enumerate(target.elts):
                if values is not None and len(values) == len(target.elts):
                    self.bind(elt, values[i], self.expr(values[i], {**env}), env)
                else:
                    self.bind(elt, value_node, _UNKNOWN, env)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, value_node, _UNKNOWN, env)
        else:
            self.expr(target, env)

    def bind_loop(self, target: ast.expr, iterable: ast.expr, env: Env) -> None:
        iter_type = self.expr(iterable, env)
        is_enumerate = (
            isinstance(iterable, ast.Call)
            and isinstance(iterable.func, ast.Name)
            and iterable.func.id == "enumerate"
            and iterable.args
        )
        if is_enumerate and isinstance(target, ast.Tuple) and len(target.elts) == 2:
            assert isinstance(iterable, ast.Call)
            self.bind(target.elts[0], iterable, int, env)
            element = _element(self.expr(iterable.args[0], env))
            self.bind(target.elts[1], iterable, element, env)
            return
        self.bind(target, iterable, _element(iter_type), env)

    def expr(self, node: ast.expr, env: Env) -> Any:
        if isinstance(node, ast.Name):
            return env.get(node.id, _UNKNOWN)
        if isinstance(node, ast.Attribute):
            owner = self.expr(node.value, env)
            if owner is _UNKNOWN:
                return _UNKNOWN
            exists, kind = _member(owner, node.attr)
            if not exists:
                self.errors.append(self._missing(node, owner))
            return kind
        if isinstance(node, ast.Call):
            return self.call(node, env)
        if isinstance(node, ast.Subscript):
            owner = self.expr(node.value, env)
            self.expr(node.slice, env)
            if isinstance(node.slice, ast.Slice):
                return owner
            if typing.get_origin(owner) is dict:
                args = typing.get_args(owner)
                return _simplify(args[1]) if len(args) == 2 else _UNKNOWN
            return _element(owner)
        if isinstance(node, ast.NamedExpr):
            value = self.expr(node.value, env)
            env[node.target.id] = value
            return value
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            return self.comprehension(node, env)
        if isinstance(node, ast.Lambda):
            inner = dict(env)
            for arg in node.args.args:
                inner[arg.arg] = _UNKNOWN
            self.expr(node.body, inner)
            return _UNKNOWN
        if isinstance(node, ast.IfExp):
            self.expr(node.test, env)
            left, right = self.expr(node.body, env), self.expr(node.orelse, env)
            return left if left == right else _UNKNOWN
        if isinstance(node, ast.Constant):
            return type(node.value) if isinstance(node.value, str) else _UNKNOWN
        if isinstance(node, ast.JoinedStr):
            self._children(node, env)
            return str
        self._children(node, env)
        return _UNKNOWN

    def _children(self, node: ast.AST, env: Env) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child, env)
            elif isinstance(child, ast.keyword | ast.comprehension):
                self._children(child, env)

    def call(self, node: ast.Call, env: Env) -> Any:
        func = node.func
        args = [self.expr(a, env) for a in node.args]
        for kw in node.keywords:
            self.expr(kw.value, env)
        if isinstance(func, ast.Name):
            if func.id in self.tools and func.id not in env:
                return _simplify(self.tools[func.id].result_type)
            if func.id in _SAME_LIST and args and typing.get_origin(args[0]) in (list, tuple):
                return _list_of(_element(args[0]))
            if func.id in _ELEMENT_OF and len(args) == 1:
                return _element(args[0])
            if func.id in ("str", "repr"):
                return str
            return _UNKNOWN
        self.expr(func, env)
        return _UNKNOWN

    def comprehension(self, node: ast.expr, env: Env) -> Any:
        inner = dict(env)
        assert isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp)
        for gen in node.generators:
            self.bind_loop(gen.target, gen.iter, inner)
            for cond in gen.ifs:
                self.expr(cond, inner)
        if isinstance(node, ast.DictComp):
            self.expr(node.key, inner)
            self.expr(node.value, inner)
            return _UNKNOWN
        element = self.expr(node.elt, inner)
        return _list_of(element) if isinstance(node, ast.ListComp) and element else _UNKNOWN

    def _missing(self, node: ast.Attribute, owner: Any) -> str:
        base = typing.get_origin(owner) or owner
        name = _describe(owner)
        if attrs.has(base):
            fields = ", ".join(f.name for f in attrs.fields(base))
            return f"line {node.lineno}: {name} has no attribute {node.attr!r} (fields: {fields})"
        return f"line {node.lineno}: {name} has no attribute {node.attr!r}"
