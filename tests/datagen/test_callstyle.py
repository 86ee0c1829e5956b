"""The first tool call of a code block hoisted into ``result = CALL``."""

from __future__ import annotations

import contextlib
import io
from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from punie_datagen.callstyle import hoist_first_call
from punie_datagen.codecheck import check_code
from tests.datagen.toolset import TOOLS

NAMES = ("ruff_check", "hover")


def test_a_printed_call_is_hoisted() -> None:
    """``print(tool(...).attr)`` becomes the call on its own line and a print of ``result``."""
    code = 'print(ruff_check("src").violation_count)'
    assert hoist_first_call(code, NAMES) == (
        'result = ruff_check("src")\nprint(result.violation_count)'
    )


def test_a_comprehension_iterable_and_a_for_iterable_are_hoisted() -> None:
    """The first iterable of a comprehension and a ``for`` statement's run once, first."""
    code = 'x = 1\nprint([v.line for v in ruff_check("a.py").violations])\nprint(x)'
    assert hoist_first_call(code, NAMES) == (
        'x = 1\nresult = ruff_check("a.py")\nprint([v.line for v in result.violations])\nprint(x)'
    )
    code = 'for v in ruff_check(\n    "a.py",\n).violations:\n    print(v)'
    assert hoist_first_call(code, NAMES) == (
        'result = ruff_check(\n    "a.py",\n)\nfor v in result.violations:\n    print(v)'
    )


def test_code_already_in_style_or_unsafe_to_move_is_left() -> None:
    """Assigned calls (any name), a ``result`` in use, and calls not run exactly once, first."""
    left = [
        'r = ruff_check("src")\nprint(r)',
        'result = 3\nprint(ruff_check("src"))',
        'for f in ["a", "b"]:\n    print(ruff_check(f))',
        'print([ruff_check(f) for f in ["a", "b"]])',
        "print(f\"{ruff_check('a').violation_count}\")",
        'print(len("x"), ruff_check("a"))',
        'print(ruff_check("a") if False else 0)',
        'print(0 or ruff_check("a"))',
        'def f():\n    print(ruff_check("a"))\nf()',
        'if True:\n    print(ruff_check("a"))',
        'print("no tool")',
        "print(",
    ]
    for code in left:
        assert hoist_first_call(code, NAMES) is None, code


def test_check_code_records_the_repair() -> None:
    """The validator's code check hoists the call and says so."""
    checked = check_code('print(git_log(".", count=3))', TOOLS)
    assert checked.error is None
    assert checked.code == 'result = git_log(".", count=3)\nprint(result)'
    assert checked.repairs == ("first tool call assigned to `result`",)
    assert checked.calls == ("git_log",)


def _run(code: str) -> tuple[str, list[str]]:
    """What the code prints and the tools it calls, in order, with recording stand-ins."""
    calls: list[str] = []

    def tool(name: str) -> Any:
        def call(*args: object) -> SimpleNamespace:
            calls.append(f"{name}{args}")
            return SimpleNamespace(violations=[1, 2], count=len(calls), name=name)

        return call

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, {name: tool(name) for name in NAMES})
    return out.getvalue(), calls


CALL = st.sampled_from(['ruff_check("a")', 'hover("b.py", 1, 2, "X")'])
SHAPE = st.sampled_from(
    [
        "print({c})",
        "print({c}.count)",
        "print([v for v in {c}.violations])",
        "n = {c}.count\nprint(n)",
        "for v in {c}.violations:\n    print(v)",
        "print({c}.name, {c}.count)",
        "print(sorted({c}.violations))",
    ]
)


@given(st.lists(st.tuples(SHAPE, CALL), min_size=1, max_size=3), st.booleans())
def test_hoisting_keeps_what_the_code_does(statements: list[tuple[str, str]], lead: bool) -> None:
    """The rewrite prints the same and calls the same tools in the same order; it is stable."""
    code = "\n".join(shape.format(c=call) for shape, call in statements)
    if lead:
        code = f"x = 1\n{code}"
    hoisted = hoist_first_call(code, NAMES)
    if hoisted is None:
        return
    assert _run(hoisted) == _run(code)
    assert hoisted.splitlines()[1 if lead else 0].startswith("result = ")
    assert hoist_first_call(hoisted, NAMES) is None
