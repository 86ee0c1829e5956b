"""validate_route_pattern's rules: Starlette-style route paths with ``{name:convertor}``."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst
from punie_domain_common import (
    Parsed,
    ValidationIssue,
    first_positional,
    keyword_arg,
    last_name,
    literal_string,
    walk,
)

ROUTE_CALLS = frozenset(
    {"Route", "WebSocketRoute", "Mount", "add_route", "add_websocket_route", "add_api_route"}
)
# Only as decorators: as plain calls these names are far too common (dict.get, ...).
ROUTE_DECORATORS = frozenset(
    {"route", "websocket_route", "api_route", "get", "post", "put", "patch", "delete", "head"}
)
CONVERTORS = frozenset({"str", "path", "int", "float", "uuid"})


def _route_path(call: cst.Call) -> tuple[cst.BaseExpression, str] | None:
    keyword = keyword_arg(call, "path")
    node = keyword.value if keyword is not None else first_positional(call)
    if node is None:
        return None
    text = literal_string(node)
    return (node, text) if text is not None else None


def _params(path: str) -> Iterator[str] | str:
    """The text inside each ``{...}``; a string instead when the braces do not balance."""
    found: list[str] = []
    start: int | None = None
    for i, ch in enumerate(path):
        if ch == "{":
            if start is not None:
                return f"'{{' at position {i} opens inside another parameter"
            start = i
        elif ch == "}":
            if start is None:
                return f"'}}' at position {i} closes nothing"
            found.append(path[start + 1 : i])
            start = None
    if start is not None:
        return f"'{{' at position {start} is never closed"
    return iter(found)


def _issue(rule: str, severity: str, message: str, line: int | None, fix: str) -> ValidationIssue:
    return ValidationIssue(rule, severity, message, line, fix)


def check_path(path: str, line: int | None, mount: bool) -> list[ValidationIssue]:
    """Every rule for one route path."""
    issues: list[ValidationIssue] = []
    if not path.startswith("/") and not (mount and path == ""):
        issues.append(
            _issue(
                "route-must-start-with-slash",
                "error",
                f"route path {path!r} does not start with '/'; Starlette refuses it",
                line,
                f"write it as {'/' + path!r}",
            )
        )
    params = _params(path)
    if isinstance(params, str):
        issues.append(
            _issue(
                "route-unbalanced-braces",
                "error",
                f"route path {path!r} has unbalanced braces: {params}",
                line,
                "write each parameter as {name} or {name:convertor}, e.g. /users/{user_id:int}",
            )
        )
        return issues
    seen: set[str] = set()
    for param in params:
        name, colon, convertor = param.partition(":")
        if not name.isidentifier() or (colon and not convertor.isidentifier()):
            issues.append(
                _issue(
                    "route-invalid-param",
                    "error",
                    f"route parameter {{{param}}} in {path!r} is not a Python identifier; "
                    "Starlette keeps it as literal text",
                    line,
                    f"name it like a Python variable, e.g. {{{_identifier(name)}}}",
                )
            )
            continue
        if name in seen:
            issues.append(
                _issue(
                    "route-duplicate-param",
                    "error",
                    f"route parameter {name!r} appears twice in {path!r}; the second value "
                    "overwrites the first in request.path_params",
                    line,
                    f"give each parameter its own name, e.g. {name}_2",
                )
            )
        seen.add(name)
        if convertor and convertor not in CONVERTORS:
            issues.append(
                _issue(
                    "route-unknown-convertor",
                    "warning",
                    f"convertor {convertor!r} in {{{param}}} is not one of Starlette's "
                    f"({', '.join(sorted(CONVERTORS))})",
                    line,
                    f"use {{{name}:int}}-style convertors, or register {convertor!r} with "
                    "starlette.convertors.register_url_convertor",
                )
            )
    return issues


def _identifier(text: str) -> str:
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in text).strip("_")
    if not cleaned:
        return "param"
    return cleaned if not cleaned[0].isdigit() else f"p_{cleaned}"


class _Routes(cst.CSTVisitor):
    def __init__(self) -> None:
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        if last_name(node.func) in ROUTE_CALLS:
            self.calls.append(node)

    def visit_Decorator(self, node: cst.Decorator) -> None:
        expr = node.decorator
        if isinstance(expr, cst.Call) and last_name(expr.func) in ROUTE_DECORATORS:
            self.calls.append(expr)


def check_route_pattern(parsed: Parsed) -> list[ValidationIssue]:
    """Route paths start with '/', balance braces, and name each parameter once, validly."""
    routes = _Routes()
    walk(parsed.module, routes)
    issues: list[ValidationIssue] = []
    seen: set[cst.Call] = set()
    for call in routes.calls:
        if call in seen:
            continue
        seen.add(call)
        found = _route_path(call)
        if found is None:
            continue
        node, path = found
        mount = last_name(call.func) == "Mount"
        issues.extend(check_path(path, parsed.line(node), mount))
    return issues
