"""check_di_template_binding's rules: injected services as the t-string templates use them."""

from __future__ import annotations

import difflib

import attrs
import libcst as cst
from punie_domain_common import (
    Parsed,
    ValidationIssue,
    class_fields,
    class_inject_fields,
    component_tag_refs,
    first_positional,
    is_html_call,
    keyword_arg,
    last_name,
    walk,
)

CONTAINER_KEYWORDS = frozenset({"container", "context"})


class _SelfUse(cst.CSTVisitor):
    """``self.x`` reads (and whether inside a t-string), ``self.x = ...`` writes, t-strings."""

    def __init__(self) -> None:
        self.read: set[str] = set()
        self.in_template: list[cst.Attribute] = []
        self.assigned: set[str] = set()
        self.depth = 0
        self.renders = False

    def visit_TemplatedString(self, node: cst.TemplatedString) -> None:
        self.renders = True

    def visit_TemplatedStringExpression(self, node: cst.TemplatedStringExpression) -> None:
        self.depth += 1

    def leave_TemplatedStringExpression(self, original_node: cst.TemplatedStringExpression) -> None:
        self.depth -= 1

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == "self":
            self.read.add(node.attr.value)
            if self.depth:
                self.in_template.append(node)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._write(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._write(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._write(node.target)

    def _write(self, target: cst.BaseExpression) -> None:
        if (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == "self"
        ):
            self.assigned.add(target.attr.value)


@attrs.frozen
class _DIClass:
    node: cst.ClassDef
    fields: dict[str, cst.CSTNode]
    use: _SelfUse


def _class_names(node: cst.ClassDef) -> set[str]:
    """Names the class body defines: fields, assignments, methods, nested classes."""
    names = {f.target.value for f in class_fields(node) if isinstance(f.target, cst.Name)}
    for stmt in node.body.body:
        if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            names.add(stmt.name.value)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    names.update(
                        t.target.value for t in small.targets if isinstance(t.target, cst.Name)
                    )
    return names


class _Collector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.di: dict[str, _DIClass] = {}
        self.html_calls: list[cst.Call] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        fields: dict[str, cst.CSTNode] = {
            name: ref.annotation for name, ref in class_inject_fields(node)
        }
        if fields and node.name.value not in self.di:
            use = _SelfUse()
            walk(node.body, use)
            self.di[node.name.value] = _DIClass(node, fields, use)

    def visit_Call(self, node: cst.Call) -> None:
        if is_html_call(node):
            self.html_calls.append(node)


class _Tags(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: list[str] = []

    def visit_TemplatedString(self, node: cst.TemplatedString) -> None:
        for ref in component_tag_refs(node):
            name = last_name(ref.expression)
            if name is not None and name not in self.names:
                self.names.append(name)


def _needs_container(
    parsed: Parsed, call: cst.Call, di: dict[str, _DIClass]
) -> list[ValidationIssue]:
    template = first_positional(call)
    if template is None or keyword_arg(call, CONTAINER_KEYWORDS) is not None:
        return []
    tags = _Tags()
    walk(template, tags)
    needing = [name for name in tags.names if name in di]
    if not needing:
        return []
    shown = ", ".join(f"<{{{n}}}>" for n in needing)
    return [
        ValidationIssue(
            rule="di-template-needs-context",
            severity="error",
            message=f"html() renders {shown}, which has Inject[...] fields, without "
            "container=: its services cannot be injected and rendering fails",
            line=parsed.line(call),
            suggestion='pass the svcs container: html(t"...", container=container)',
        )
    ]


def _unknown_attributes(parsed: Parsed, info: _DIClass) -> list[ValidationIssue]:
    node = info.node
    if any(last_name(b.value) not in (None, "object") for b in node.bases):
        return []  # attributes may be inherited
    known = _class_names(node) | info.use.assigned
    issues: list[ValidationIssue] = []
    seen: set[tuple[str, int | None]] = set()
    for attr in info.use.in_template:
        name, line = attr.attr.value, parsed.line(attr)
        if name in known or name.startswith("__") or (name, line) in seen:
            continue
        seen.add((name, line))
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.5)
        hint = f"; did you mean self.{close[0]}?" if close else ""
        fields = ", ".join(f"self.{f}" for f in info.fields)
        issues.append(
            ValidationIssue(
                rule="di-template-unknown-attribute",
                severity="error",
                message=f"the template of {node.name.value} reads self.{name}, but "
                f"{node.name.value} has no field or method {name}{hint}",
                line=line,
                suggestion=f"use an injected field ({fields}) or declare "
                f"{name}: Inject[...] on the class",
            )
        )
    return issues


def check_di_template_binding(parsed: Parsed) -> list[ValidationIssue]:
    """Looks into t-strings: DI components get a container, and read only injected fields."""
    collector = _Collector()
    walk(parsed.module, collector)
    issues: list[ValidationIssue] = []
    for call in collector.html_calls:
        issues.extend(_needs_container(parsed, call, collector.di))
    for info in collector.di.values():
        if not info.use.renders:
            continue
        issues.extend(_unknown_attributes(parsed, info))
        for name, annotation in info.fields.items():
            if name not in info.use.read:
                issues.append(
                    ValidationIssue(
                        rule="di-injected-field-unused",
                        severity="warning",
                        message=f"{info.node.name.value} injects {name} but never reads "
                        f"self.{name}: the container builds a service nobody uses",
                        line=parsed.line(annotation),
                        suggestion=f"use self.{name} in the template, or remove the field",
                    )
                )
    return issues
