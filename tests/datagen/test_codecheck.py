"""Static checks of Code Mode code: calls, arguments and attributes read from results."""

from __future__ import annotations

import pytest

from punie_datagen.codecheck import calls_in_order, check_code
from tests.datagen.toolset import TOOLS


def error(code: str) -> str | None:
    """The first problem check_code finds in a code block."""
    return check_code(code, TOOLS).error


def test_valid_code_passes() -> None:
    """Known tools, fitting arguments and existing attributes give no error."""
    code = 'r = hover("a.py", 3, 0, "X")\nif r.success:\n    print(r.content.upper())'
    assert error(code) is None


def test_missing_attribute_on_result_is_caught() -> None:
    """Reading HoverResult.type_info (the foundation's defect) is an error naming the fields."""
    message = error('r = hover("a.py", 3, 0, "X")\nprint(r.type_info)')
    assert message is not None
    assert "HoverResult has no attribute 'type_info'" in message
    assert "content" in message


def test_loop_variable_gets_the_element_type() -> None:
    """A loop over a list field types the loop variable."""
    code = 'r = hover("a.py", 3, 0, "X")\nfor loc in r.locations:\n    print(loc.path)'
    assert "Location has no attribute 'path'" in (error(code) or "")


def test_enumerate_and_index_follow_the_element_type() -> None:
    """enumerate() and [0] keep the element type."""
    code = (
        'r = hover("a.py", 3, 0, "X")\nfirst = r.locations[0]\nprint(first.line)\n'
        "for i, loc in enumerate(r.locations):\n    print(i, loc.colum)"
    )
    assert "Location has no attribute 'colum'" in (error(code) or "")


def test_comprehension_variable_is_typed() -> None:
    """Comprehension targets get the element type too."""
    code = 'r = hover("a.py", 3, 0, "X")\nprint([l.fyle for l in r.locations])'
    assert "fyle" in (error(code) or "")


def test_attribute_chain_through_optional_field() -> None:
    """``str | None`` fields are followed as str: str methods pass, others fail."""
    assert error('print(hover("a.py", 1, 1, "X").content.strip())') is None
    message = error('print(hover("a", 1, 1, "X").content.nope)')
    assert "str has no attribute 'nope'" in (message or "")


def test_unknown_values_are_not_checked() -> None:
    """Anything the inference cannot type is left alone (no false rejections)."""
    code = 'r = hover("a.py", 3, 0, "X")\nx = r if r.success else None\nprint(x.anything)'
    assert error(code) is None


def test_unknown_function_is_an_error() -> None:
    """Calling a function that is neither a tool, a builtin nor defined is an error."""
    assert "goto_definition()" in (error('goto_definition("a.py", 1, 1, "X")') or "")


def test_imports_are_errors() -> None:
    """Code Mode has no imports."""
    assert "imports" in (error('import os\nprint(git_log("."))') or "")


def test_code_without_a_tool_call_is_an_error() -> None:
    """A tool call must call at least one tool."""
    assert error('print("hello")') == "the code calls no registered tool"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ('hover("a.py", 1, 2)', "missing required argument 'symbol'"),
        ('hover("a.py", 1, 2, "X", 5)', "takes 4 positional arguments"),
        ('git_log(".", counts=3)', "unexpected keyword argument 'counts'"),
        ('git_log(".", count="3")', "argument 'count' must be int"),
        ('tags(["a", 1])', "argument 'names' must be list[str]"),
        ('x = 3\nhover("a.py", x, 2)', "missing required argument 'symbol'"),
        ('x = "a"\nhover(x, "1", 2, "X")', "argument 'line' must be int"),
    ],
)
def test_arguments_must_fit_the_signature(code: str, expected: str) -> None:
    """Literal arguments bind like ToolSpec.bind; with variables, arity and literals count."""
    assert expected in (error(code) or "")


def test_non_literal_arguments_pass_the_shape_check() -> None:
    """Variables in arguments are accepted when arity and keywords fit."""
    assert error('n = 3\nprint(git_log(".", count=n))') is None


def test_direct_suffix_is_repaired() -> None:
    """``<tool>_direct`` calls are renamed to the tool and the repair recorded."""
    result = check_code('r = git_log_direct(".", 3)\nprint(git_log_direct())', TOOLS)
    assert result.error is None
    assert result.code == 'r = git_log(".", 3)\nprint(git_log())'
    assert result.repairs == ("renamed git_log_direct() to git_log()",)


def test_calls_in_order_lists_tools_in_source_order() -> None:
    """calls_in_order lists registered tools in the order they appear."""
    code = 'a = git_log(".")\nb = hover("x", 1, 1, "y")\nprint(len(a), b)'
    assert calls_in_order(code, TOOLS) == ["git_log", "hover"]


def test_check_reports_the_calls_of_the_repaired_code() -> None:
    """CodeCheck.calls: the tools the (renamed) code calls, in source order, repeats kept."""
    code = 'r = git_log_direct(".", 3)\nprint(hover("a", 1, 1, "x").content, git_log())'
    assert check_code(code, TOOLS).calls == ("git_log", "hover", "git_log")
