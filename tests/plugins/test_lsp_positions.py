"""punie_lsp.positions: mapping guessed coordinates and LSP position encodings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from punie_lsp.positions import (
    Position,
    PositionError,
    from_units,
    locate,
    split_lines,
    symbol_name,
    to_units,
)

SOURCE = """import os


class Store:
    def add(self, item: Item) -> None:
        self.items.append(item)  # Item is noted here too


def make() -> Store:
    return Store()
"""

identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
source_text = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.one_of(identifiers, st.sampled_from([" ", "\n", "(", ")", ":", "    ", "#", '"'])),
        max_size=60,
    ).map("".join),
)


def test_position_on_the_symbol_is_kept() -> None:
    """A position inside the symbol's name maps to the start of that name."""
    assert locate(SOURCE, 5, 27, "Item") == Position(4, 24)


def test_column_zero_finds_the_symbol_on_the_line() -> None:
    """Column 0 on a line that holds the symbol picks the symbol, not the indentation."""
    assert locate(SOURCE, 5, 0, "add") == Position(4, 8)


def test_column_zero_without_symbol_is_the_first_code() -> None:
    """Column 0 and no symbol: the first non-blank character of the line."""
    assert locate(SOURCE, 6, 0, "") == Position(5, 8)


def test_wrong_line_falls_back_to_the_nearest_occurrence() -> None:
    """A symbol absent from the given line is found on the nearest line that has it."""
    assert locate(SOURCE, 7, 1, "Store") == Position(8, 14)


def test_out_of_range_line_prefers_the_definition() -> None:
    """With an impossible line, the symbol's `class`/`def` occurrence is used."""
    assert locate(SOURCE, 500, 1, "Store") == Position(3, 6)


def test_occurrences_in_comments_are_ignored() -> None:
    """Identifiers inside comments and strings are not symbol occurrences."""
    assert locate(SOURCE, 6, 1, "Item") == Position(4, 24)


def test_dotted_and_called_symbols_use_the_last_name() -> None:
    """`Store.add()` and `self.items` name `add` and `items`."""
    assert symbol_name("Store.add()") == "add"
    assert symbol_name("self.items") == "items"
    assert symbol_name("") == ""


def test_unknown_line_and_symbol_is_an_error() -> None:
    """No such line and no such identifier: a PositionError saying both."""
    with pytest.raises(PositionError, match=r"line 99 is out of range: x\.py has 10 lines"):
        locate(SOURCE, 99, 1, "Missing", label="x.py")


@given(text=source_text, line=st.integers(-3, 40), column=st.integers(-3, 120), symbol=identifiers)
def test_locate_returns_a_valid_position_or_a_position_error(
    text: str, line: int, column: int, symbol: str
) -> None:
    """On any text, locate gives an in-bounds position or raises PositionError only."""
    try:
        pos = locate(text, line, column, symbol)
    except PositionError:
        return
    lines = split_lines(text)
    assert 0 <= pos.line < len(lines)
    assert 0 <= pos.index <= len(lines[pos.line])


@given(
    before=st.text(max_size=20).map(lambda s: s.replace("\n", " ").replace("\r", " ")),
    symbol=identifiers,
    line_guess=st.integers(1, 3),
)
def test_locate_lands_on_the_symbol_when_it_is_on_the_line(
    before: str, symbol: str, line_guess: int
) -> None:
    """When the symbol occurs in the source, the chosen position starts that name."""
    text = f"x = 1\n{symbol} = 2  # {before}\n"
    pos = locate(text, line_guess, 0, symbol)
    row = split_lines(text)[pos.line]
    assert row[pos.index : pos.index + len(symbol)] == symbol


@given(text=st.text(max_size=40), encoding=st.sampled_from(["utf-8", "utf-16", "utf-32"]))
def test_units_round_trip(text: str, encoding: str) -> None:
    """A code-point index survives conversion to LSP units and back."""
    for index in range(len(text) + 1):
        assert from_units(text, to_units(text, index, encoding), encoding) == index


def test_utf16_counts_astral_characters_twice() -> None:
    """An emoji is two UTF-16 units but one code point."""
    line = 'x = "😀"; name'
    assert to_units(line, line.index("name"), "utf-16") == line.index("name") + 1
    assert from_units(line, line.index("name") + 1, "utf-16") == line.index("name")
