"""The svcs rules, as checks over a parsed module (no file access, nothing executed)."""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import libcst as cst
from punie_domain_common import (
    BUILTIN_NAMES,
    Bindings,
    InjectRef,
    Parsed,
    ValidationIssue,
    all_params,
    class_inject_fields,
    class_methods,
    dotted_name,
    find_components,
    find_decorator,
    first_positional,
    inject_ref,
    is_dataclass_like,
    keyword_arg,
    last_name,
    root_name,
    walk,
)

REGISTER_CALLS = frozenset({"register_factory", "register_value"})


@attrs.frozen
class Edge:
    """One ``Inject[T]`` of a class: the class, T's last name, and the annotation node."""

    owner: str
    target: str
    node: cst.CSTNode


class _Classes(cst.CSTVisitor):
    """Every class of the module, and the first argument of each registry registration."""

    def __init__(self) -> None:
        self.classes: dict[str, cst.ClassDef] = {}
        self.registered: set[str] = set()
        self.value_registrations: list[cst.Call] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.setdefault(node.name.value, node)

    def visit_Call(self, node: cst.Call) -> None:
        fn = last_name(node.func)
        if fn not in REGISTER_CALLS:
            return
        first = first_positional(node)
        name = last_name(first) if first is not None else None
        if name is not None:
            self.registered.add(name)
        if fn == "register_value":
            self.value_registrations.append(node)


def _collect(module: cst.Module) -> _Classes:
    collector = _Classes()
    walk(module, collector)
    return collector


def _init_injects(node: cst.ClassDef) -> Iterator[InjectRef]:
    init = class_methods(node).get("__init__")
    if init is not None:
        for param in all_params(init):
            ref = inject_ref(param.annotation.annotation) if param.annotation else None
            if ref is not None:
                yield ref


def class_edges(node: cst.ClassDef) -> list[Edge]:
    """The ``Inject[T]`` dependencies of a class: dataclass fields and ``__init__`` params."""
    refs = [ref for _, ref in class_inject_fields(node)] + list(_init_injects(node))
    owner = node.name.value
    return [
        Edge(owner, ref.name.rsplit(".", 1)[-1], ref.annotation)
        for ref in refs
        if ref.name is not None
    ]


def check_service_registration(parsed: Parsed) -> list[ValidationIssue]:
    """Services with Inject[...] fields are @injectable (or registered) dataclasses."""
    found = _collect(parsed.module)
    issues: list[ValidationIssue] = []
    for name, node in found.classes.items():
        fields = list(class_inject_fields(node))
        injectable = find_decorator(node, "injectable") is not None
        if not fields and not injectable:
            continue
        line = parsed.line(node.name)
        if fields and not injectable and name not in found.registered:
            issues.append(
                ValidationIssue(
                    rule="service-must-have-injectable",
                    severity="warning",
                    message=f"service {name} has Inject[...] fields but is not @injectable and "
                    "this file does not register it: unless another module calls "
                    f"register_factory({name}, auto({name})), nothing resolves its dependencies",
                    line=line,
                    suggestion=f"decorate it with @injectable (from svcs_di.injectors import "
                    f"injectable) or register it: registry.register_factory({name}, "
                    f"auto({name}))",
                )
            )
        if fields and not is_dataclass_like(node) and "__init__" not in class_methods(node):
            issues.append(
                ValidationIssue(
                    rule="service-must-have-dataclass",
                    severity="error",
                    message=f"service {name} declares Inject[...] fields but is not a "
                    "@dataclass: the injector reads dataclass fields or __init__ parameters, "
                    "so these fields are never injected",
                    line=line,
                    suggestion=f"add @dataclass (from dataclasses import dataclass) above "
                    f"class {name}",
                )
            )
    for call in found.value_registrations:
        issues.extend(_value_is_class(parsed, call, found.classes))
    return issues


def _value_is_class(
    parsed: Parsed, call: cst.Call, classes: dict[str, cst.ClassDef]
) -> Iterator[ValidationIssue]:
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    value_arg = keyword_arg(call, "value")
    value = (
        value_arg.value
        if value_arg is not None
        else (positional[1] if len(positional) > 1 else None)
    )
    if not positional or value is None:
        return
    service = dotted_name(positional[0])
    if service is None or dotted_name(value) != service:
        return
    if last_name(value) not in classes and not service[:1].isupper():
        return
    yield ValidationIssue(
        rule="service-value-is-class",
        severity="error",
        message=f"register_value({service}, {service}) registers the class itself as the "
        f"value: container.get({service}) returns the class, not an instance",
        line=parsed.line(call),
        suggestion=f"register an instance: register_value({service}, {service}(...)), "
        f"or a factory: register_factory({service}, {service})",
    )


def _strong_components(graph: dict[str, list[Edge]]) -> list[list[str]]:
    """Strongly connected components (iterative Tarjan, so long chains cannot overflow)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = len(index)
                stack.append(v)
                on_stack.add(v)
            edges = graph.get(v, [])
            if i < len(edges):
                work.append((v, i + 1))
                w = edges[i].target
                if w not in index:
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            for edge in edges:
                if edge.target in on_stack:
                    low[v] = min(low[v], low[edge.target])
            if low[v] == index[v]:
                members = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    members.append(w)
                    if w == v:
                        break
                components.append(members)
    return components


def _cycles(graph: dict[str, list[Edge]]) -> list[list[Edge]]:
    """One shortest cycle per strongly connected component, starting at its smallest name."""
    cycles = []
    for members in _strong_components(graph):
        path = _path_back(graph, min(members), set(members))
        if path:
            cycles.append(path)
    return cycles


def _path_back(graph: dict[str, list[Edge]], start: str, inside: set[str]) -> list[Edge]:
    """A shortest cycle through ``start`` using only edges within ``inside`` (BFS)."""
    parents: dict[str, Edge] = {}
    frontier = [start]
    seen = {start}
    while frontier:
        following = []
        for v in frontier:
            for edge in graph.get(v, []):
                if edge.target not in inside:
                    continue
                if edge.target == start:
                    path = [edge]
                    while path[0].owner != start:
                        path.insert(0, parents[path[0].owner])
                    return path
                if edge.target not in seen:
                    seen.add(edge.target)
                    parents[edge.target] = edge
                    following.append(edge.target)
        frontier = following
    return []


def check_dependency_graph(parsed: Parsed) -> list[ValidationIssue]:
    """Services must not inject tdom components, and Inject[...] edges must not form cycles."""
    found = _collect(parsed.module)
    component_names = {c.name for c in find_components(parsed.module).components}
    graph = {
        name: [e for e in class_edges(node) if e.target in found.classes]
        for name, node in found.classes.items()
    }
    issues: list[ValidationIssue] = []
    for name, edges in graph.items():
        if name in component_names:
            continue
        for edge in edges:
            if edge.target in component_names:
                issues.append(
                    ValidationIssue(
                        rule="service-cannot-depend-on-component",
                        severity="error",
                        message=f"service {name} injects {edge.target}, a tdom component: "
                        "services sit below the view layer and must not depend on components",
                        line=parsed.line(edge.node),
                        suggestion=f"move what {name} needs from {edge.target} into a service, "
                        f"and let {edge.target} inject {name} instead",
                    )
                )
    for cycle in _cycles(graph):
        names = " -> ".join([cycle[0].owner, *(e.target for e in cycle)])
        issues.append(
            ValidationIssue(
                rule="dependency-cycle",
                severity="error",
                message=f"dependency cycle {names}: the container cannot construct any of them",
                line=parsed.line(cycle[0].node),
                suggestion="break the cycle: inject a Protocol or a factory on one side, or "
                "move the shared part into a third service both can inject",
            )
        )
    return issues


class _InjectSites(cst.CSTVisitor):
    """Every ``Inject[...]`` annotation: class fields and function parameters."""

    def __init__(self) -> None:
        self.refs: list[InjectRef] = []

    def visit_Annotation(self, node: cst.Annotation) -> None:
        ref = inject_ref(node.annotation)
        if ref is not None:
            self.refs.append(ref)


def check_injection_site(parsed: Parsed) -> list[ValidationIssue]:
    """Inject itself is imported, and every Inject[T] names one type bound in the file."""
    sites = _InjectSites()
    walk(parsed.module, sites)
    if not sites.refs:
        return []
    bindings = Bindings(parsed.module)
    issues: list[ValidationIssue] = []
    first = min(sites.refs, key=lambda ref: parsed.line(ref.annotation) or 0)
    marker = root_name(first.annotation.value) or "Inject"
    if not bindings.binds(marker):
        issues.append(
            ValidationIssue(
                rule="inject-marker-not-imported",
                severity="error",
                message=f"{marker} is used in {len(sites.refs)} annotation(s) but never "
                "imported: the annotations cannot be resolved",
                line=parsed.line(first.annotation),
                suggestion="add: from svcs_di import Inject",
            )
        )
    for ref in sites.refs:
        code = cst.Module([]).code_for_node(ref.annotation)
        if ref.name is None or len(ref.annotation.slice) != 1:
            issues.append(
                ValidationIssue(
                    rule="inject-type-not-a-class",
                    severity="warning",
                    message=f"{code} does not name one service type: svcs looks services up "
                    "by their exact type, so the container finds no registration for it",
                    line=parsed.line(ref.annotation),
                    suggestion="inject the service class itself, e.g. Inject[Database], and "
                    "give the field a default if the service is optional",
                )
            )
            continue
        root = ref.name.split(".", 1)[0]
        if not bindings.binds(root) and root not in BUILTIN_NAMES:
            issues.append(
                ValidationIssue(
                    rule="inject-type-must-be-imported",
                    severity="warning",
                    message=f"{code}: {root} is neither imported nor defined in this file",
                    line=parsed.line(ref.annotation),
                    suggestion=f"import {root} from the module that defines the service "
                    f"(e.g. from app.services import {root})",
                )
            )
    return issues
