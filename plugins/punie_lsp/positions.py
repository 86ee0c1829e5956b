"""Map the model's 1-based (line, column, symbol) guesses onto exact 0-based source positions."""

from __future__ import annotations

import io
import re
import tokenize

import attrs

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_IDENTIFIER = re.compile(r"[^\W\d]\w*")
_DEFINITION = re.compile(r"^\s*(?:async\s+def|def|class)\s+$")


class PositionError(ValueError):
    """The position cannot be used; the message is what the tool reports as parse_error."""


@attrs.frozen
class Position:
    """A 0-based line and a 0-based code-point index into that line."""

    line: int
    index: int


def split_lines(text: str) -> list[str]:
    """Split source into lines the way LSP counts them (``\\n``, ``\\r\\n`` and ``\\r``)."""
    return _LINE_BREAK.split(text)


def symbol_name(symbol: str) -> str:
    """The identifier a symbol label refers to: ``Warehouse.add_product()`` -> ``add_product``."""
    names = _IDENTIFIER.findall(symbol)
    return names[-1] if names else ""


def name_occurrences(text: str, name: str) -> list[Position]:
    """Every place ``name`` occurs as an identifier (not inside strings or comments)."""
    if not name:
        return []
    try:
        return [
            Position(tok.start[0] - 1, tok.start[1])
            for tok in tokenize.generate_tokens(io.StringIO(text).readline)
            if tok.type == tokenize.NAME and tok.string == name
        ]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        # Unfinished source: fall back to whole-word matches on each line.
        pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")
        return [
            Position(i, m.start())
            for i, line in enumerate(split_lines(text))
            for m in pattern.finditer(line)
        ]


def locate(text: str, line: int, column: int, symbol: str, *, label: str = "file") -> Position:
    """Turn a 1-based (line, column) and a symbol name into the position to query.

    The position is kept when it touches ``symbol``; otherwise the nearest occurrence of
    the name on that line, then in the whole file, is used, because models guess
    coordinates. Column 0 (or less) means the start of the line's code. Raises
    PositionError when the line does not exist and the symbol does not occur in the file.
    """
    lines = split_lines(text)
    name = symbol_name(symbol)
    found = name_occurrences(text, name)
    if 1 <= line <= len(lines):
        row = line - 1
        source = lines[row]
        # Column 0 (the data's habit) means the first code on the line, never LSP's -1.
        indent = len(source) - len(source.lstrip())
        index = indent if column <= 0 else min(column - 1, len(source))
        on_line = [p for p in found if p.line == row]
        for p in on_line:
            if p.index <= index <= p.index + len(name):
                return p
        if on_line:
            return min(on_line, key=lambda p: abs(p.index - index))
        if found:
            return min(found, key=lambda p: (abs(p.line - row), p.line))
        return Position(row, index)
    if found:
        definitions = [p for p in found if _DEFINITION.match(lines[p.line][: p.index])]
        return (definitions or found)[0]
    count = len(lines) - 1 if len(lines) > 1 and not lines[-1] else len(lines)
    where = f"line {line} is out of range: {label} has {count} lines"
    if name:
        where += f" and no identifier {name!r}"
    raise PositionError(where)


def to_units(text: str, index: int, encoding: str) -> int:
    """A code-point index into ``text`` as a count of ``encoding`` units (LSP character)."""
    index = max(0, min(index, len(text)))
    if encoding == "utf-32":
        return index
    if encoding == "utf-8":
        return len(text[:index].encode("utf-8"))
    return len(text[:index].encode("utf-16-le")) // 2


def from_units(text: str, units: int, encoding: str) -> int:
    """An LSP character offset in ``encoding`` units as a code-point index into ``text``."""
    if encoding == "utf-32":
        return max(0, min(units, len(text)))
    width = 1 if encoding == "utf-8" else 2
    codec = "utf-8" if encoding == "utf-8" else "utf-16-le"
    seen = 0
    for i, char in enumerate(text):
        if seen >= units * width:
            return i
        seen += len(char.encode(codec))
    return len(text)
