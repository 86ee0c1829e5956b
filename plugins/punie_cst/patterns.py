"""The cst_find_pattern grammar: node types, ``call:``, ``decorator:`` and ``import:`` patterns."""

from __future__ import annotations

import re
from collections.abc import Callable

import attrs
import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

NODE_TYPES: dict[str, type[cst.CSTNode]] = {
    "FunctionDef": cst.FunctionDef,
    "ClassDef": cst.ClassDef,
    "Call": cst.Call,
    "Decorator": cst.Decorator,
    "Import": cst.Import,
    "ImportFrom": cst.ImportFrom,
    "Name": cst.Name,
    "Attribute": cst.Attribute,
}
PREFIXES = ("call", "decorator", "import")
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
SNIPPET_CHARS = 120
# libcst counts only these as line breaks (str.splitlines also splits on \f, \x1c, ...).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

VALID_PATTERNS = (
    f"{', '.join(NODE_TYPES)}; call:NAME (e.g. call:print, call:json.loads; also matches "
    "obj.NAME(...) and NAME[...]); decorator:NAME (e.g. decorator:dataclass, also "
    "@dataclass(...) and @dataclasses.dataclass); import:MODULE (e.g. import:json)"
)


class PatternError(ValueError):
    """The pattern is not part of the grammar."""


@attrs.frozen
class Found:
    """A node that matched, with its position (line 1-based, column 0-based)."""

    line: int
    column: int
    code_snippet: str
    node_type: str


def dotted_name(node: cst.CSTNode) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def _name_matches(node: cst.CSTNode, wanted: str) -> bool:
    """Whether a (dotted) name refers to ``wanted``: exactly, or as its trailing part."""
    name = dotted_name(node)
    return name is not None and (name == wanted or name.endswith("." + wanted))


def _matcher(pattern: str) -> Callable[[cst.CSTNode], bool]:
    pattern = pattern.strip()
    if pattern in NODE_TYPES:
        node_type = NODE_TYPES[pattern]
        return lambda node: isinstance(node, node_type)
    prefix, sep, name = pattern.partition(":")
    prefix, name = prefix.strip().lower(), name.strip()
    if not sep or prefix not in PREFIXES:
        raise PatternError(f"unknown pattern {pattern!r}; valid patterns: {VALID_PATTERNS}")
    if not _DOTTED.match(name):
        raise PatternError(
            f"pattern {pattern!r} needs a (dotted) name after '{prefix}:'; "
            f"valid patterns: {VALID_PATTERNS}"
        )
    if prefix == "call":
        return lambda node: (
            (isinstance(node, cst.Call) and _name_matches(node.func, name))
            or (isinstance(node, cst.Subscript) and _name_matches(node.value, name))
        )
    if prefix == "decorator":

        def decorator(node: cst.CSTNode) -> bool:
            if not isinstance(node, cst.Decorator):
                return False
            expr = node.decorator
            target = expr.func if isinstance(expr, cst.Call) else expr
            return _name_matches(target, name)

        return decorator

    def imports(node: cst.CSTNode) -> bool:
        if isinstance(node, cst.ImportFrom) and node.module is not None:
            module = dotted_name(node.module) or ""
            return module == name or module.endswith("." + name)
        if isinstance(node, cst.Import):
            names = [dotted_name(a.name) or "" for a in node.names]
            return any(
                n == name or n.startswith(name + ".") or n.endswith("." + name) for n in names
            )
        return False

    return imports


def check_pattern(pattern: str) -> None:
    """Raise PatternError if ``pattern`` is not part of the grammar."""
    _matcher(pattern)


class _Collector(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, match: Callable[[cst.CSTNode], bool]) -> None:
        super().__init__()
        self.match = match
        self.found: list[tuple[cst.CSTNode, CodeRange]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.match(node):
            self.found.append((node, self.get_metadata(PositionProvider, node)))
        return True


def find_pattern(source: str, pattern: str) -> list[Found]:
    """Every node of ``source`` matching ``pattern``, in source order.

    Raises PatternError for a bad pattern and libcst.ParserSyntaxError for bad source.
    """
    match = _matcher(pattern)
    wrapper = MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
    collector = _Collector(match)
    wrapper.visit(collector)
    lines = _LINE_BREAK.split(wrapper.module.code)
    out = []
    for node, where in collector.found:
        start = where.start
        out.append(
            Found(
                line=start.line,
                column=start.column,
                code_snippet=_snippet(wrapper.module, node, lines, where)[:SNIPPET_CHARS],
                node_type=type(node).__name__,
            )
        )
    return sorted(out, key=lambda f: (f.line, f.column))


def _snippet(module: cst.Module, node: cst.CSTNode, lines: list[str], where: CodeRange) -> str:
    """The first line of the node itself (without decorators or comments above it)."""
    if hasattr(node, "leading_lines"):
        # statements and decorators carry the comments above them: start at their position
        start = where.start
        return lines[start.line - 1][start.column :].strip() if start.line <= len(lines) else ""
    for line in _LINE_BREAK.split(module.code_for_node(node)):
        if line.strip():
            return line.strip()
    return ""
