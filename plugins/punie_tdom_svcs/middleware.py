"""validate_middleware_chain's rules: tdom-svcs middleware classes and their order."""

from __future__ import annotations

import attrs
import libcst as cst
from punie_domain_common import (
    Parsed,
    ValidationIssue,
    class_fields,
    class_methods,
    find_decorator,
    is_abstract,
    is_stub,
    last_name,
    literal_string,
    own_returns,
    positional_params,
    walk,
)

SIGNATURE = "__call__(self, target, props, context)"


class _Finder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.classes: list[cst.ClassDef] = []
        self.registered: set[str] = set()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(node)

    def visit_Call(self, node: cst.Call) -> None:
        if last_name(node.func) != "register_middleware":
            return
        for arg in node.args:
            value = arg.value.func if isinstance(arg.value, cst.Call) else arg.value
            name = last_name(value)
            if name is not None:
                self.registered.add(name)


def _is_middleware(node: cst.ClassDef, registered: set[str]) -> bool:
    # @hookable marks a component that *has* middleware, not a middleware (the original
    # checked those, and @injectable components, for the middleware signature).
    if is_abstract(node):
        return False
    return (
        find_decorator(node, "middleware") is not None
        or node.name.value.endswith("Middleware")
        or node.name.value in registered
    )


def _categories_ok(decorator: cst.Decorator) -> bool:
    call = decorator.decorator
    if not isinstance(call, cst.Call):
        return False
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "categories":
            value = arg.value
            return (
                isinstance(value, cst.List | cst.Tuple)
                and bool(value.elements)
                and all(literal_string(e.value) for e in value.elements)
            )
    return False


def _signature_problem(call: cst.FunctionDef) -> str | None:
    params = call.params
    positional = positional_params(call)
    star = isinstance(params.star_arg, cst.Param)
    if len(positional) > 4 and any(p.default is None for p in positional[4:]):
        return f"takes {len(positional) - 1} arguments besides self"
    if len(positional) < 4 and not star:
        return f"takes {len(positional) - 1} argument(s) besides self"
    if any(p.default is None for p in params.kwonly_params):
        return "requires keyword-only arguments the chain never passes"
    return None


@attrs.frozen
class _Priority:
    value: int | None
    ok: bool
    node: cst.AnnAssign | cst.Assign


def _int_value(expr: cst.BaseExpression | None) -> int | None:
    if isinstance(expr, cst.Integer):
        return int(expr.evaluated_value)
    if (
        isinstance(expr, cst.UnaryOperation)
        and isinstance(expr.operator, cst.Minus | cst.Plus)
        and isinstance(expr.expression, cst.Integer)
    ):
        value = int(expr.expression.evaluated_value)
        return -value if isinstance(expr.operator, cst.Minus) else value
    return None


def _priority(node: cst.ClassDef) -> _Priority | None:
    for field in class_fields(node):
        if isinstance(field.target, cst.Name) and field.target.value == "priority":
            annotated_int = last_name(field.annotation.annotation) == "int"
            value = _int_value(field.value)
            ok = annotated_int and (field.value is None or value is not None)
            return _Priority(value, ok, field)
    for stmt in node.body.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign) and any(
                    isinstance(t.target, cst.Name) and t.target.value == "priority"
                    for t in small.targets
                ):
                    value = _int_value(small.value)
                    return _Priority(value, value is not None, small)
    return None


def check_middleware_chain(parsed: Parsed) -> list[ValidationIssue]:
    """Middleware: categories, the (target, props, context) signature, returns, priorities."""
    finder = _Finder()
    walk(parsed.module, finder)
    issues: list[ValidationIssue] = []
    priorities: dict[int, str] = {}
    for node in finder.classes:
        if not _is_middleware(node, finder.registered):
            continue
        name = node.name.value
        decorator = find_decorator(node, "middleware")
        if decorator is not None and not _categories_ok(decorator):
            issues.append(
                ValidationIssue(
                    rule="middleware-must-have-categories",
                    severity="warning",
                    message=f"@middleware on {name} has no categories=[...] of strings, so it "
                    'is only found under the generic "middleware" category',
                    line=parsed.line(decorator.decorator),
                    suggestion='name its categories: @middleware(categories=["security"])',
                )
            )
        call = class_methods(node).get("__call__")
        problem = "has no __call__" if call is None else _signature_problem(call)
        if problem is not None:
            issues.append(
                ValidationIssue(
                    rule="middleware-must-have-correct-signature",
                    severity="error",
                    message=f"middleware {name} {problem}; the chain calls {SIGNATURE}",
                    line=parsed.line(call.name if call is not None else node.name),
                    suggestion=f"define def {SIGNATURE}: ... return props",
                )
            )
        returns = call is not None and (
            is_stub(call) or any(r.value is not None for r in own_returns(call))
        )
        if call is not None and not returns:
            issues.append(
                ValidationIssue(
                    rule="middleware-must-return-props",
                    severity="error",
                    message=f"{name}.__call__ never returns props: falling off the end "
                    "returns None, which halts the chain for every component",
                    line=parsed.line(call.name),
                    suggestion="end with return props (return None only to halt on purpose)",
                )
            )
        priority = _priority(node)
        if priority is None:
            continue
        if not priority.ok:
            issues.append(
                ValidationIssue(
                    rule="middleware-priority-must-be-int",
                    severity="error",
                    message=f"{name}.priority is not an int: the chain sorts middleware by "
                    "priority (lower runs first)",
                    line=parsed.line(priority.node),
                    suggestion="declare it as priority: int = -10 (any int literal)",
                )
            )
        elif priority.value is None:
            continue
        elif priority.value in priorities:
            other = priorities[priority.value]
            issues.append(
                ValidationIssue(
                    rule="middleware-duplicate-priority",
                    severity="warning",
                    message=f"{name} and {other} both have priority {priority.value}: their "
                    "order in the chain then depends on registration order",
                    line=parsed.line(priority.node),
                    suggestion=f"give {name} a priority of its own so the order is explicit",
                )
            )
        else:
            priorities[priority.value] = name
    return issues
