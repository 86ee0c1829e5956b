"""Phrasing variety of the plugins' templates: at least 20 distinct query shapes per tool.

A query's *shape* is the rendered query with the drawn values taken out: every string of
the template's context (the plugin's pools) and of the values its top-level ``set``
statements drew (symbols, files, rules, messages), then quoted or backticked spans, paths
and numbers become placeholders, case and trailing punctuation are ignored. Each template
is rendered many times through punie_datagen's own machinery; a rendering counts for the
tool its first code block calls first.
"""

from __future__ import annotations

import functools
import re
import statistics
from collections.abc import Iterable, Iterator, Mapping

import attrs
import pytest

from punie_datagen.codecheck import calls_in_order
from punie_datagen.render import TemplateError, draft, template_key
from punie_tools import Registry
from punie_tools.templates import ExampleTemplate

MIN_SHAPES = 20
RENDERS_PER_TEMPLATE = 300
SEED = 12

_QUOTED = re.compile(r"`[^`]*`|\"[^\"]*\"|(?<!\w)'[^'\n]+'(?!\w)")
_PATH = re.compile(
    r"[\w.\-\[\]*]*/[\w.\-/\[\]*]*"  # a path with a slash
    r"|\b[\w\-]+\.(?:py|md|toml|json|txt|cfg|lock)\b"  # a file name
    r"|(?<!\S)\.(?=[\s,?.]|$)"  # the current directory, "."
)
_NUMBER = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")


def _strings(value: object) -> Iterator[str]:
    """Every string inside a pool value: dicts, sequences and attrs records, recursively."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _strings(item)
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            yield from _strings(getattr(value, field.name))


def _value_pattern(values: Iterable[str]) -> re.Pattern[str] | None:
    """A regex matching any of the values as a whole word (longest first)."""
    words = sorted({v.strip() for v in values if len(v.strip()) >= 2}, key=len, reverse=True)
    if not words:
        return None
    alternation = "|".join(re.escape(w) for w in words)
    return re.compile(rf"(?<![\w])(?:{alternation})(?![\w])")


def shape(query: str, pattern: re.Pattern[str] | None) -> str:
    """The query with drawn values, quoted spans and paths as ``<v>``, numbers as ``#``."""
    text = pattern.sub("<v>", query) if pattern else query
    text = _QUOTED.sub("<v>", text)
    text = _PATH.sub("<v>", text)
    text = _NUMBER.sub("#", text)
    text = _SPACES.sub(" ", text).strip().rstrip(".?!:;, ").lower()
    return text


@functools.cache
def _registry() -> Registry:
    return Registry.load()


def _template_shapes(template: ExampleTemplate, tools: Mapping[str, object]) -> dict[str, set]:
    """Distinct query shapes of one template, by the tool its first code block calls first.

    The values taken out are those of every rendering (a word drawn as a value in one
    rendering is a placeholder in all of them), so shapes do not split on chance overlaps.
    """
    values = set(_strings(dict(template.context)))
    queries: list[tuple[str, str]] = []
    for index in range(RENDERS_PER_TEMPLATE):
        try:
            found, session = draft(template, SEED, index)
        except TemplateError as exc:  # pragma: no cover - reported by the assertion below
            pytest.fail(f"{template_key(template)} does not render: {exc}")
        values.update(v for value in session.context.vars.values() for v in _strings(value))
        called = calls_in_order(found.code, tools)
        if called:
            queries.append((called[0], found.query))
    pattern = _value_pattern(values)
    shapes: dict[str, set[str]] = {}
    for tool, query in queries:
        shapes.setdefault(tool, set()).add(shape(query, pattern))
    return shapes


@functools.cache
def shapes_per_tool() -> dict[str, frozenset[str]]:
    """Every registered tool's distinct query shapes over all templates."""
    registry = _registry()
    tools = {spec.name: spec for spec in registry.tools()}
    result: dict[str, set[str]] = {name: set() for name in tools}
    for template in registry.templates():
        for tool, found in _template_shapes(template, tools).items():
            result[tool] |= found
    return {name: frozenset(found) for name, found in result.items()}


def test_shape_takes_out_values_quotes_paths_and_numbers() -> None:
    """Two renderings that differ only in drawn values have one shape."""
    pattern = _value_pattern(["Warehouse", "Order"])
    one = shape("Why does `x` fail on line 12 of inventory/models.py? Warehouse!", pattern)
    two = shape("why does 'y' fail on line 3 of tests/test_a.py? Order", pattern)
    three = shape('Why does "z" fail on line 3 of .? Order', pattern)
    assert one == two == three == "why does <v> fail on line # of <v>? <v>"


def test_every_tool_has_enough_phrasings() -> None:
    """Each registered tool starts templates with at least MIN_SHAPES distinct query shapes."""
    counts = {tool: len(found) for tool, found in shapes_per_tool().items()}
    poor = {tool: n for tool, n in sorted(counts.items()) if n < MIN_SHAPES}
    assert not poor, f"tools with fewer than {MIN_SHAPES} query shapes: {poor}"
    assert statistics.median(counts.values()) >= MIN_SHAPES


if __name__ == "__main__":  # a report: python -m tests.plugins.test_template_variety
    for name, found in sorted(shapes_per_tool().items(), key=lambda kv: len(kv[1])):
        print(f"{len(found):4d}  {name}")
