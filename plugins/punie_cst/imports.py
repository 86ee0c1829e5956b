"""Adding an import statement with libcst's AddImportsVisitor (idempotent)."""

from __future__ import annotations

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from punie_cst.patterns import dotted_name


class ImportSpecError(ValueError):
    """The import statement text is not ``import X`` or ``from X import a, b as c``."""


_USAGE = "use 'import X', 'import X as Y' or 'from X import a, b as c'"


def _needed(statement: str) -> list[tuple[str, str | None, str | None, int]]:
    """(module, obj, asname, relative level) for each name the statement imports."""
    try:
        line = cst.parse_statement(statement.strip())
    except cst.ParserSyntaxError:
        raise ImportSpecError(f"{statement!r} is not an import statement; {_USAGE}") from None
    body = line.body if isinstance(line, cst.SimpleStatementLine) else []
    if len(body) != 1 or not isinstance(body[0], cst.Import | cst.ImportFrom):
        raise ImportSpecError(f"{statement!r} is not a single import statement; {_USAGE}")
    node = body[0]
    if isinstance(node, cst.Import):
        return [(alias.evaluated_name, None, alias.evaluated_alias, 0) for alias in node.names]
    if isinstance(node.names, cst.ImportStar):
        raise ImportSpecError(f"star imports cannot be added: {statement!r}")
    module = dotted_name(node.module) if node.module is not None else ""
    if module is None:
        raise ImportSpecError(f"cannot read the module name of {statement!r}")
    return [
        (module, alias.evaluated_name, alias.evaluated_alias, len(node.relative))
        for alias in node.names
    ]


def check_import(statement: str) -> None:
    """Raise ImportSpecError unless ``statement`` is an import the tool can add."""
    _needed(statement)


def add_import(source: str, statement: str) -> str:
    """``source`` with the import added unless it is already there.

    Raises ImportSpecError and libcst.ParserSyntaxError.
    """
    needed = _needed(statement)
    module = cst.parse_module(source)
    context = CodemodContext()
    for mod, obj, asname, relative in needed:
        AddImportsVisitor.add_needed_import(context, mod, obj, asname, relative)
    return AddImportsVisitor(context).transform_module(module).code
