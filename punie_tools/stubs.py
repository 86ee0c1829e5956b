"""Python stubs of the registry's tools and result types (shown to models and type checkers)."""

from __future__ import annotations

import typing
from collections.abc import Iterable
from typing import Any

import attrs

from punie_tools.spec import ToolSpec, type_text


def result_classes(specs: Iterable[ToolSpec]) -> list[type]:
    """Every attrs class reachable from the tools' result types, dependencies first."""
    seen: dict[type, None] = {}
    visiting: set[type] = set()  # recursive result types (a symbol's children)

    def visit(annotation: Any) -> None:
        for arg in typing.get_args(annotation):
            visit(arg)
        if isinstance(annotation, type) and attrs.has(annotation) and annotation not in seen:
            if annotation in visiting:
                return
            visiting.add(annotation)
            for hint in _field_hints(annotation).values():
                visit(hint)
            seen[annotation] = None

    for spec in specs:
        visit(spec.result_type)
    return list(seen)


def _field_hints(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints.get(f.name, Any) for f in attrs.fields(cls)}


def class_stub(cls: type) -> str:
    """A class stub listing the fields of an attrs result class."""
    doc = (cls.__doc__ or "").strip().splitlines()
    lines = [f"class {cls.__name__}:"]
    if doc:
        lines.append(f'    """{doc[0]}"""')
    lines += [f"    {name}: {type_text(hint)}" for name, hint in _field_hints(cls).items()]
    return "\n".join(lines)


def function_stub(spec: ToolSpec) -> str:
    """A function stub with the tool's signature and summary."""
    return f'def {spec.signature()}:\n    """{spec.summary}"""\n    ...'


def stubs(specs: Iterable[ToolSpec]) -> str:
    """The stub module text for a set of tools (result classes first, then functions)."""
    specs = list(specs)
    parts = ["from typing import Any, Literal"]
    parts += [class_stub(c) for c in result_classes(specs)]
    parts += [function_stub(s) for s in specs]
    return "\n\n\n".join(parts) + "\n"
