"""Held-out evaluation queries that plugins ship, and their ``eval.toml`` reader."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs


class EvalFileError(ValueError):
    """An eval.toml file is malformed; the message names the file and the query."""


def _frozen_mapping(value: Mapping[str, object]) -> Mapping[str, object]:
    return MappingProxyType(dict(value))


@attrs.frozen
class ExpectedCall:
    """A tool the answer must call, with the arguments it must pass."""

    tool: str
    args: Mapping[str, object] = attrs.field(
        factory=dict, converter=_frozen_mapping, eq=False, hash=False
    )


@attrs.frozen
class EvalQuery:
    """One evaluation prompt with the calls a correct answer makes."""

    id: str
    query: str
    category: str
    fixture: str
    expected: tuple[ExpectedCall, ...]
    keywords: tuple[str, ...] = ()
    multi_step: bool = False


_QUERY_KEYS = {"id", "query", "category", "fixture", "expected", "keywords", "multi_step"}


def load_eval_queries(path: Path) -> list[EvalQuery]:
    """Read ``[[query]]`` tables from an eval.toml; raise EvalFileError naming what is wrong."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise EvalFileError(f"{path}: {exc}") from exc
    out = []
    for i, raw in enumerate(data.get("query", []), start=1):
        where = f"{path}: query #{i} ({raw.get('id', '?')})"
        out.append(_query_from_mapping(raw, where))
    unknown_top = set(data) - {"query"}
    if unknown_top:
        raise EvalFileError(f"{path}: unknown top-level keys {sorted(unknown_top)}")
    return out


def _query_from_mapping(raw: dict[str, Any], where: str) -> EvalQuery:
    unknown = set(raw) - _QUERY_KEYS
    if unknown:
        raise EvalFileError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("id", "query", "category", "fixture"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise EvalFileError(f"{where}: '{key}' must be a non-empty string")
    expected = []
    for call in raw.get("expected", []):
        if not isinstance(call, dict) or not isinstance(call.get("tool"), str):
            raise EvalFileError(f"{where}: each [[query.expected]] needs a 'tool' string")
        extra = set(call) - {"tool", "args"}
        if extra:
            raise EvalFileError(f"{where}: unknown keys in expected call {sorted(extra)}")
        expected.append(ExpectedCall(tool=call["tool"], args=call.get("args", {})))
    if not expected:
        raise EvalFileError(f"{where}: at least one [[query.expected]] call is required")
    return EvalQuery(
        id=raw["id"],
        query=raw["query"],
        category=raw["category"],
        fixture=raw["fixture"],
        expected=tuple(expected),
        keywords=tuple(raw.get("keywords", ())),
        multi_step=bool(raw.get("multi_step", len(expected) > 1)),
    )
