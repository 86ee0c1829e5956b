"""The tdom rules, as checks over a parsed module (no file access, nothing executed)."""

from __future__ import annotations

import re

import libcst as cst
from punie_domain_common import (
    BUILTIN_NAMES,
    Bindings,
    Parsed,
    ValidationIssue,
    class_methods,
    component_tag_refs,
    first_positional,
    is_dataclass_like,
    is_fstring,
    is_html_call,
    is_stub,
    last_name,
    literal_string,
    own_returns,
    root_name,
    string_parts,
    walk,
)
from punie_domain_common.components import find_components, returns_render_type

T_STRING_FIX = 'use a t-string so tdom escapes every value: html(t"<p>{name}</p>")'


def check_component(parsed: Parsed) -> list[ValidationIssue]:
    """Rules for class-based components: @dataclass, __call__, its return type, no f-strings."""
    issues: list[ValidationIssue] = []
    for info in find_components(parsed.module).components:
        name, line = info.name, parsed.line(info.node.name)
        methods = class_methods(info.node)
        if not is_dataclass_like(info.node) and "__init__" not in methods:
            issues.append(
                ValidationIssue(
                    rule="component-must-have-dataclass",
                    severity="error",
                    message=f"component {name} is not a @dataclass: tdom passes tag attributes "
                    "as keyword arguments, so it needs a generated __init__",
                    line=line,
                    suggestion=f"add @dataclass (from dataclasses import dataclass) above "
                    f"class {name}",
                )
            )
        call = info.call
        if call is None:
            issues.append(
                ValidationIssue(
                    rule="component-must-have-callable",
                    severity="error",
                    message=f"component {name} has no __call__ method: tdom calls the "
                    "component instance to get its template",
                    line=line,
                    suggestion=f'define def __call__(self) -> Template: return t"..." in {name}',
                )
            )
        elif not returns_render_type(call):
            shown = (
                f"is annotated -> {cst.Module([]).code_for_node(call.returns.annotation)}"
                if call.returns is not None
                else "has no return annotation"
            )
            issues.append(
                ValidationIssue(
                    rule="component-callable-must-return-node",
                    severity="warning",
                    message=f"{name}.__call__ {shown}; a component returns a Node or Template",
                    line=parsed.line(call.name),
                    suggestion="annotate it as def __call__(self) -> Node (tdom-svcs) "
                    "or -> Template (tdom)",
                )
            )
        for html_call in info.html_calls:
            arg = first_positional(html_call)
            if arg is not None and is_fstring(arg):
                issues.append(
                    ValidationIssue(
                        rule="component-no-fstring-in-html",
                        severity="error",
                        message=f"component {name} passes an f-string to html(): "
                        "values are inserted unescaped (XSS risk) and html() needs a Template",
                        line=parsed.line(arg),
                        suggestion=T_STRING_FIX,
                    )
                )
    return issues


class _TreeVisitor(cst.CSTVisitor):
    """Finds component references in t-strings and html() calls rendered inside them."""

    def __init__(self, parsed: Parsed, bindings: Bindings) -> None:
        self.parsed = parsed
        self.bindings = bindings
        self.issues: list[ValidationIssue] = []
        self.seen: set[tuple[str, int | None]] = set()
        # One frame per enclosing interpolation: how many Markup(...) calls are open in it.
        self.frames: list[int] = []

    def _reference(self, expr: cst.BaseExpression, how: str) -> None:
        name = root_name(expr)
        if name is None or self.bindings.binds(name) or name in BUILTIN_NAMES:
            return
        line = self.parsed.line(expr)
        if (name, line) in self.seen:
            return
        self.seen.add((name, line))
        self.issues.append(
            ValidationIssue(
                rule="render-tree-unknown-component",
                severity="error",
                message=f"{how} {name} is neither defined nor imported in this file",
                line=line,
                suggestion=f"import {name} (from its components module) or define it here",
            )
        )

    def visit_TemplatedString(self, node: cst.TemplatedString) -> None:
        tags = list(component_tag_refs(node))
        for ref in tags:
            self._reference(ref.expression, "component tag")
        for part in node.parts:
            if isinstance(part, cst.TemplatedStringExpression) and part not in tags:
                expr = part.expression
                if isinstance(expr, cst.Call):
                    called = last_name(expr.func)
                    if called is not None and called[:1].isupper():
                        self._reference(expr.func, "component")

    def visit_TemplatedStringExpression(self, node: cst.TemplatedStringExpression) -> None:
        self.frames.append(0)

    def leave_TemplatedStringExpression(self, original_node: cst.TemplatedStringExpression) -> None:
        self.frames.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if not self.frames:
            return
        if last_name(node.func) == "Markup":
            self.frames[-1] += 1
        elif is_html_call(node) and self.frames[-1] == 0:
            self.issues.append(
                ValidationIssue(
                    rule="render-tree-nested-html-call",
                    severity="warning",
                    message="html() is called inside a t-string interpolation: it returns a "
                    "rendered str, which the outer template escapes again",
                    line=self.parsed.line(node),
                    suggestion="interpolate the Template itself ({content}) or a component "
                    "tag (<{Card} />); wrap in Markup(...) only if it is already safe HTML",
                )
            )

    def leave_Call(self, original_node: cst.Call) -> None:
        if self.frames and last_name(original_node.func) == "Markup":
            self.frames[-1] -= 1


def _missing_return(parsed: Parsed, func: cst.FunctionDef, owner: str) -> ValidationIssue | None:
    if is_stub(func) or any(r.value is not None for r in own_returns(func)):
        return None
    return ValidationIssue(
        rule="render-tree-missing-return",
        severity="error",
        message=f"{owner} never returns the rendered node, so the component renders None",
        line=parsed.line(func.name),
        suggestion='return the template: return html(t"...") (tdom-svcs) or return t"..." (tdom)',
    )


def check_render_tree(parsed: Parsed) -> list[ValidationIssue]:
    """Composition: referenced components exist, __call__ returns, no re-rendered children."""
    visitor = _TreeVisitor(parsed, Bindings(parsed.module))
    walk(parsed.module, visitor)
    issues = visitor.issues
    found = find_components(parsed.module)
    for info in found.components:
        if info.call is not None:
            issue = _missing_return(parsed, info.call, f"{info.name}.__call__")
            if issue is not None:
                issues.append(issue)
    for name in sorted(found.tag_names & found.functions.keys()):
        issue = _missing_return(parsed, found.functions[name], f"component function {name}")
        if issue is not None:
            issues.append(issue)
    return issues


_TAG = re.compile(r"<\s*/?\s*[A-Za-z!]")


def _has_markup(expr: cst.BaseExpression) -> bool:
    """Whether a string literal (or the literal text of an f-string) contains an HTML tag."""
    for part in string_parts(expr):
        if isinstance(part, cst.FormattedString):
            text = "".join(p.value for p in part.parts if isinstance(p, cst.FormattedStringText))
        else:
            text = literal_string(part) or ""
        if _TAG.search(text):
            return True
    return False


def _operands(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        return [*_operands(expr.left), *_operands(expr.right)]
    return [expr]


def _is_string(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.SimpleString | cst.ConcatenatedString | cst.FormattedString)


def string_building(expr: cst.BaseExpression) -> str | None:
    """How ``expr`` builds a string from pieces (``+``, ``%``, ``.format``), else None."""
    if isinstance(expr, cst.BinaryOperation):
        if isinstance(expr.operator, cst.Add) and any(_is_string(o) for o in _operands(expr)):
            return "concatenation (+)"
        if isinstance(expr.operator, cst.Modulo) and _is_string(expr.left):
            return "%-formatting"
    if (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value == "format"
    ):
        return "str.format()"
    return None


def _builds_markup(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.FormattedString):
        has_value = any(isinstance(p, cst.FormattedStringExpression) for p in expr.parts)
        return has_value and _has_markup(expr)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        operands = _operands(expr)
        return any(_is_string(o) and _has_markup(o) for o in operands) and not all(
            _is_string(o) and not isinstance(o, cst.FormattedString) for o in operands
        )
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Modulo):
        return _is_string(expr.left) and _has_markup(expr.left)
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        return expr.func.attr.value == "format" and _has_markup(expr.func.value)
    return False


class _EscapeVisitor(cst.CSTVisitor):
    def __init__(self, parsed: Parsed) -> None:
        self.parsed = parsed
        self.issues: list[ValidationIssue] = []
        self.handled: set[cst.CSTNode] = set()

    def _add(self, rule: str, severity: str, node: cst.CSTNode, message: str, fix: str) -> None:
        self.handled.add(node)
        self.issues.append(ValidationIssue(rule, severity, message, self.parsed.line(node), fix))

    def visit_Call(self, node: cst.Call) -> bool:
        if node in self.handled:
            return False
        if not is_html_call(node):
            return self._markup(node)
        fn = last_name(node.func)
        arg = first_positional(node)
        if arg is None:
            return True
        if is_fstring(arg):
            prefixes = sorted(
                {
                    p.start.rstrip("'\"")
                    for p in string_parts(arg)
                    if isinstance(p, cst.FormattedString)
                }
            )
            self._add(
                "no-fstring-in-html",
                "error",
                arg,
                f"{fn}() receives an f-string ({', '.join(prefixes)} prefix): values are "
                "inserted unescaped (XSS risk)",
                T_STRING_FIX,
            )
        elif (how := string_building(arg)) is not None:
            self._add(
                "no-string-building-in-html",
                "error",
                arg,
                f"{fn}() receives markup built by {how}: values are inserted unescaped "
                "(XSS risk) and html() needs a Template",
                T_STRING_FIX,
            )
        return True

    def _markup(self, node: cst.BaseExpression) -> bool:
        """Flag markup built from strings; returns whether to visit the node's children."""
        if node in self.handled:
            return False
        if not _builds_markup(node):
            return True
        self._add(
            "markup-built-from-strings",
            "warning",
            node,
            f"HTML is built by {string_building(node) or 'an f-string'}: the inserted values "
            "are not escaped (XSS risk)",
            'build the markup as a t-string and render it with html(t"..."), '
            "or escape each value with markupsafe.escape()",
        )
        return False

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> bool:
        return node not in self.handled

    def visit_FormattedString(self, node: cst.FormattedString) -> bool:
        return self._markup(node)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> bool:
        return self._markup(node)


def check_escape_context(parsed: Parsed) -> list[ValidationIssue]:
    """f-strings of any prefix or string building passed to html(), and markup built unescaped."""
    visitor = _EscapeVisitor(parsed)
    walk(parsed.module, visitor)
    return visitor.issues
