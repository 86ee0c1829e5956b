"""Scope-aware renaming with libcst's ScopeProvider: bindings and their references only."""

from __future__ import annotations

import keyword

import attrs
import libcst as cst
from libcst.metadata import Assignment, MetadataWrapper, Scope, ScopeProvider


class RenameError(ValueError):
    """The rename cannot be done (bad names, nothing bound, or a clash)."""


@attrs.frozen
class Renamed:
    """The new source and how many name occurrences changed."""

    source: str
    count: int


def check_identifier(name: str, what: str) -> None:
    """Raise RenameError unless ``name`` is a usable Python identifier."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise RenameError(f"{what} {name!r} is not a valid Python identifier")


def _alias_for(statement: cst.Import | cst.ImportFrom, name: str) -> cst.ImportAlias | None:
    """The alias of an import statement that binds ``name``."""
    if isinstance(statement.names, cst.ImportStar):
        return None
    for alias in statement.names:
        if alias.evaluated_alias == name or (alias.asname is None and alias.evaluated_name == name):
            return alias
    return None


class _Targets:
    """The Name nodes (and import aliases) a rename must touch, by identity."""

    def __init__(self) -> None:
        self.names: set[int] = set()
        self.aliases: set[int] = set()

    def binding(self, node: cst.CSTNode, old: str) -> None:
        if isinstance(node, cst.Name):
            self.names.add(id(node))
        elif isinstance(node, cst.FunctionDef | cst.ClassDef | cst.Param):
            self.names.add(id(node.name))
        elif isinstance(node, cst.Import | cst.ImportFrom):
            alias = _alias_for(node, old)
            if alias is None:
                return
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.names.add(id(alias.asname.name))
            elif isinstance(alias.name, cst.Name):
                self.aliases.add(id(alias))  # gets ``as new`` so the import stays the same
            else:
                raise RenameError(
                    f"cannot rename {old!r}: it is bound by 'import {alias.evaluated_name}'; "
                    "add an alias first"
                )


class _Renamer(cst.CSTTransformer):
    def __init__(self, targets: _Targets, old: str, new: str) -> None:
        super().__init__()
        self.targets, self.old, self.new = targets, old, new
        self.count = 0

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        if id(original_node) in self.targets.names:
            self.count += 1
            return updated_node.with_changes(value=self.new)
        return updated_node

    def leave_ImportAlias(
        self, original_node: cst.ImportAlias, updated_node: cst.ImportAlias
    ) -> cst.ImportAlias:
        if id(original_node) in self.targets.aliases:
            self.count += 1
            return updated_node.with_changes(asname=cst.AsName(name=cst.Name(self.new)))
        return updated_node

    def leave_NameItem(
        self, original_node: cst.NameItem, updated_node: cst.NameItem
    ) -> cst.NameItem:
        # ``global x`` / ``nonlocal x`` name the binding being renamed
        if original_node.name.value == self.old:
            self.count += 1
            return updated_node.with_changes(name=updated_node.name.with_changes(value=self.new))
        return updated_node


def rename(source: str, old: str, new: str) -> Renamed:
    """Rename every binding called ``old`` and the references that resolve to it.

    Attribute names (``obj.old``), keyword arguments (``f(old=1)``), strings and comments
    are left alone. Raises RenameError and libcst.ParserSyntaxError.
    """
    check_identifier(old, "old_name")
    check_identifier(new, "new_name")
    if old == new:
        raise RenameError("old_name and new_name are the same")
    wrapper = MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
    scopes = {s for s in wrapper.resolve(ScopeProvider).values() if s is not None}
    targets = _Targets()
    renamed_in: list[Scope] = []
    for scope in scopes:
        bindings = [a for a in scope.assignments[old] if isinstance(a, Assignment)]
        if not bindings:
            continue
        renamed_in.append(scope)
        for binding in bindings:
            targets.binding(binding.node, old)
            for access in binding.references:
                if isinstance(access.node, cst.Name) and access.node.value == old:
                    targets.names.add(id(access.node))
    if not renamed_in:
        raise RenameError(f"no variable, function, class or import named {old!r} is defined here")
    for scope in renamed_in:
        if any(isinstance(a, Assignment) for a in scope.assignments[new]):
            raise RenameError(f"{new!r} is already defined in the same scope as {old!r}")
    renamer = _Renamer(targets, old, new)
    module = wrapper.module.visit(renamer)
    return Renamed(module.code, renamer.count)
