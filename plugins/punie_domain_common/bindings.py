"""Which names a module binds anywhere: imports, definitions, assignments, parameters."""

from __future__ import annotations

import libcst as cst

from punie_domain_common.cst_helpers import all_params, root_name
from punie_domain_common.walk import walk


class _Binder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()
        self.imported: set[str] = set()

    def _target(self, node: cst.BaseExpression) -> None:
        if isinstance(node, cst.Name):
            self.names.add(node.value)
        elif isinstance(node, cst.Tuple | cst.List):
            for element in node.elements:
                self._target(element.value)
        elif isinstance(node, cst.StarredElement):
            self._target(node.value)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                name = alias.asname.name.value
            else:
                name = root_name(alias.name) or ""
            self.imported.add(name)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            self.imported.add("*")
            return
        for alias in node.names:
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.imported.add(alias.asname.name.value)
            elif isinstance(alias.name, cst.Name):
                self.imported.add(alias.name.value)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.names.add(node.name.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.names.add(node.name.value)
        for param in all_params(node):
            self.names.add(param.name.value)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        for param in all_params(node):
            self.names.add(param.name.value)

    def visit_TypeParam(self, node: cst.TypeParam) -> None:
        self.names.add(node.param.name.value)

    def visit_TypeAlias(self, node: cst.TypeAlias) -> None:
        self.names.add(node.name.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._target(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._target(node.target)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._target(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._target(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._target(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._target(node.name)

    def visit_Global(self, node: cst.Global) -> None:
        self.names.update(item.name.value for item in node.names)

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self.names.add(node.name.value)

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self.names.add(node.name.value)

    def visit_MatchMapping(self, node: cst.MatchMapping) -> None:
        if node.rest is not None:
            self.names.add(node.rest.value)


class Bindings:
    """The names a module binds anywhere (a deliberately scope-blind over-approximation)."""

    def __init__(self, module: cst.Module) -> None:
        binder = _Binder()
        walk(module, binder)
        self.imported = frozenset(binder.imported)
        self.defined = frozenset(binder.names)

    @property
    def star_import(self) -> bool:
        """Whether a ``from m import *`` makes every name possibly bound."""
        return "*" in self.imported

    def binds(self, name: str) -> bool:
        """Whether ``name`` is imported, defined or assigned somewhere in the module."""
        return name in self.imported or name in self.defined or self.star_import
