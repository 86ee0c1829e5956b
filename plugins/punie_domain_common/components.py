"""Find tdom components in a module: class-based components and the tags that use them."""

from __future__ import annotations

import attrs
import libcst as cst

from punie_domain_common.cst_helpers import (
    class_methods,
    component_tag_refs,
    find_decorator,
    is_abstract,
    is_html_call,
    last_name,
)
from punie_domain_common.walk import walk

# What a component's __call__ may be annotated to return: tdom's Node (tdom-svcs and older
# tdom), Template/ScopedTemplate (tdom >= 0.1.14) or the rendered str/Markup.
RENDER_TYPES = frozenset({"Node", "Template", "ScopedTemplate", "Markup", "str"})
COMPONENT_DECORATORS = frozenset({"hookable", "component"})


@attrs.define
class ClassInfo:
    """A class of the module and what its body renders."""

    node: cst.ClassDef
    html_calls: list[cst.Call] = attrs.field(factory=list)
    renders: bool = False

    @property
    def name(self) -> str:
        """The class name."""
        return self.node.name.value

    @property
    def call(self) -> cst.FunctionDef | None:
        """The class's ``__call__`` method."""
        return class_methods(self.node).get("__call__")


def annotation_names(expr: cst.BaseExpression) -> list[str | None]:
    """Last names of the members of a ``A | B`` union annotation (None for other forms)."""
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitOr):
        return [*annotation_names(expr.left), *annotation_names(expr.right)]
    return [last_name(expr)]


def returns_render_type(func: cst.FunctionDef) -> bool:
    """Whether ``func`` is annotated to return a Node, Template, Markup or str."""
    if func.returns is None:
        return False
    names = annotation_names(func.returns.annotation)
    return all(name in RENDER_TYPES for name in names)


class _Collector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.classes: list[ClassInfo] = []
        self.stack: list[ClassInfo] = []
        self.tag_names: set[str] = set()
        self.functions: dict[str, cst.FunctionDef] = {}

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        info = ClassInfo(node)
        self.classes.append(info)
        self.stack.append(info)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not self.stack:
            self.functions.setdefault(node.name.value, node)

    def visit_Call(self, node: cst.Call) -> None:
        if self.stack and is_html_call(node):
            self.stack[-1].html_calls.append(node)
            self.stack[-1].renders = True

    def visit_TemplatedString(self, node: cst.TemplatedString) -> None:
        if self.stack:
            self.stack[-1].renders = True
        for ref in component_tag_refs(node):
            name = last_name(ref.expression)
            if name is not None:
                self.tag_names.add(name)


@attrs.frozen
class ModuleComponents:
    """The component classes of a module, and the names used as ``<{Tag}>`` anywhere."""

    components: list[ClassInfo]
    tag_names: frozenset[str]
    functions: dict[str, cst.FunctionDef]


def find_components(module: cst.Module) -> ModuleComponents:
    """Classes that are tdom components.

    A class is a component when it renders (its body builds a t-string or calls html()),
    is used as a ``<{Tag}>`` in the module, carries @hookable/@component, or has a
    ``__call__`` annotated to return a Node/Template; Protocols and ABCs are interfaces, not
    components. A plain @dataclass (an svcs service, a value object) is not one either: the
    original validator reported those as broken components.
    """
    collector = _Collector()
    walk(module, collector)
    components = [
        info
        for info in collector.classes
        if not is_abstract(info.node)
        and (
            info.renders
            or info.name in collector.tag_names
            or find_decorator(info.node, COMPONENT_DECORATORS) is not None
            or (info.call is not None and returns_render_type(info.call))
        )
    ]
    return ModuleComponents(
        components=components,
        tag_names=frozenset(collector.tag_names),
        functions=collector.functions,
    )
