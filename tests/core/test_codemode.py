"""Code Mode wire format: parsing and formatting tool calls and responses."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from punie_tools.codemode import (
    format_tool_call,
    format_tool_response,
    parse_tool_call,
    parse_tool_response,
)

VARIANT_A = (
    "<tool_call><function=execute_code>\n<parameter=code>\nr = git_status('.')\nprint(r.clean)\n"
    "</parameter>\n</function></tool_call>"
)
VARIANT_B = (
    "<tool_call><function=execute_code><parameter=code>\nr = git_status('.')\nprint(r.clean)\n"
    "</parameter></function></tool_call>"
)


def test_parses_both_foundation_variants() -> None:
    """Both whitespace variants of the foundation data give the same code."""
    for reply in (VARIANT_A, VARIANT_B):
        call = parse_tool_call(reply)
        assert call is not None
        assert call.function == "execute_code"
        assert call.code == "r = git_status('.')\nprint(r.clean)"


def test_tolerates_missing_close_tags() -> None:
    """A reply cut off before </parameter> still yields the code."""
    call = parse_tool_call("<tool_call><function=execute_code>\n<parameter=code>\nprint(1)\n")
    assert call is not None
    assert call.code == "print(1)"
    call = parse_tool_call("<tool_call><function=execute_code><parameter=code>\nx = 1\n</function>")
    assert call is not None
    assert call.code == "x = 1"


def test_keeps_text_before_the_call() -> None:
    """Assistant text before the call is kept apart from the code."""
    call = parse_tool_call("I'll handle that.\n\n" + VARIANT_B)
    assert call is not None
    assert call.text_before == "I'll handle that."


def test_plain_text_is_no_call() -> None:
    """A reply without a call parses to None."""
    assert parse_tool_call("The answer is 42.") is None
    assert parse_tool_call("<tool_call>garbage") is None


@given(st.text())
def test_format_then_parse_round_trips(code: str) -> None:
    """parse(format(code)) == code for any code text, in both variants."""
    for compact in (False, True):
        call = parse_tool_call(format_tool_call(code, compact=compact))
        assert call is not None
        assert call.code == code


@given(st.text())
def test_parser_never_raises(reply: str) -> None:
    """Arbitrary model output never makes the parser raise."""
    result = parse_tool_call(reply)
    assert result is None or isinstance(result.function, str)


@given(st.text(alphabet=st.characters(blacklist_characters="\r"), max_size=200))
def test_tool_response_round_trips(output: str) -> None:
    """The tool-response wrapper round-trips its output."""
    assert parse_tool_response(format_tool_response(output)) == output
