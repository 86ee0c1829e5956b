"""Tool results as JSON: the fields of attrs result objects, recursively."""

from __future__ import annotations

import enum
import os
from typing import Any

import attrs


def to_json(value: Any) -> Any:
    """A JSON-compatible copy of a tool's return value (attrs objects become field dicts)."""
    if attrs.has(type(value)):
        return {f.name: to_json(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return repr(value)


def structured(value: Any) -> dict[str, Any]:
    """The result as a JSON object: its fields, or ``{"result": value}`` for plain values."""
    data = to_json(value)
    return data if attrs.has(type(value)) else {"result": data}


def result_text(value: Any) -> str:
    """What the model sees when it prints the result: the text itself, or the repr."""
    return value if isinstance(value, str) else repr(value)


def failure(value: Any) -> str | None:
    """The ``parse_error`` of a result that reports the tool could not do its job."""
    error = getattr(value, "parse_error", None)
    return error if isinstance(error, str) and error else None
