"""The Code Mode sandbox: tools as the only callables, limits, and hostile code."""

from __future__ import annotations

import os
import time
from pathlib import Path

import attrs
import pytest

from punie_tools import RunLimits, Sandbox, ToolSpec, Workspace


@attrs.frozen
class Line:
    """One line of a file."""

    number: int
    text: str


@attrs.frozen
class ReadResult:
    """The lines of a file."""

    success: bool
    lines: list[Line]
    parse_error: str | None = None


def read_lines(path: str, workspace: Workspace) -> ReadResult:
    """Read a file inside the workspace as numbered lines.

    Args:
        path: file path relative to the workspace
    """
    text = workspace.resolve(path).read_text()
    return ReadResult(True, [Line(i, t) for i, t in enumerate(text.splitlines(), start=1)])


def write_text(path: str, content: str, workspace: Workspace) -> str:
    """Write a file inside the workspace."""
    workspace.resolve(path).write_text(content)
    return "ok"


SPECS = [
    ToolSpec.from_function(read_lines, category="test"),
    ToolSpec.from_function(write_text, category="test", writes=True),
]


@pytest.fixture(name="sandbox")
def fixture_sandbox(tmp_path: Path) -> Sandbox:
    """A sandbox over a workspace with one file and a symlink pointing outside."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.py").write_text("x = 1\ny = 2\n")
    (tmp_path / "secret.txt").write_text("top secret")
    os.symlink(tmp_path / "secret.txt", root / "link.txt")
    return Sandbox(SPECS, Workspace(root), RunLimits(seconds=2.0, memory_bytes=64 * 2**20))


def test_tool_results_read_as_attributes(sandbox: Sandbox) -> None:
    """Code reads nested result attributes and f-strings them; the reply is stdout."""
    result = sandbox.run('r = read_lines("a.py")\nprint(f"{r.lines[1].number}: {r.lines[1].text}")')
    assert result.ok
    assert result.reply == "2: y = 2"
    assert result.tool_calls == ("read_lines",)


def test_repr_of_result_is_shown(sandbox: Sandbox) -> None:
    """Printing a result shows its attrs repr."""
    result = sandbox.run('print(read_lines("a.py").lines[0])')
    assert result.reply == "Line(number=1, text='x = 1')"


def test_values_are_what_the_tools_returned(sandbox: Sandbox) -> None:
    """A run keeps each tool call's own return value, in call order, beside the printed text."""
    result = sandbox.run('print(read_lines("a.py").success)\nwrite_text("b.py", "z = 3")')
    assert result.ok
    first, second = result.values
    assert isinstance(first, ReadResult)
    assert first.lines == [Line(1, "x = 1"), Line(2, "y = 2")]
    assert second == "ok"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("while True:\n    pass", "TimeoutError"),
        ("x = 'a' * (10 * 1024**3)", "MemoryError"),
        ("def f(n):\n    return f(n + 1)\nf(0)", "RecursionError"),
        ("import os", "imports are not available"),
        ("open('/etc/passwd').read()", "PermissionError"),
        ("__import__('os')", "NameError"),
        ("().__class__.__subclasses__()", "AttributeError"),
        ('read_lines("../../etc/passwd")', "leaves the workspace"),
        ('read_lines("/etc/passwd")', "outside the workspace"),
        ('write_text("/tmp/punie-escape.txt", "x")', "outside the workspace"),
        ('read_lines("link.txt")', "leaves the workspace"),
        ("print(1", "SyntaxError"),
        ("read_lines(42)", "must be str"),
        ('read_lines("a.py", colour="red")', "unexpected keyword"),
    ],
)
def test_hostile_code_is_answered_with_a_message(
    sandbox: Sandbox, code: str, expected: str
) -> None:
    """Hostile or broken code comes back as a clear message within seconds; the host lives."""
    started = time.monotonic()
    result = sandbox.run(code)
    assert not result.ok
    assert expected in result.reply
    assert time.monotonic() - started < 10
    assert not Path("/tmp/punie-escape.txt").exists()
    assert sandbox.run('print("alive")').reply == "alive"


def test_tool_call_limit(sandbox: Sandbox) -> None:
    """More tool calls than allowed stop the run with a message."""
    small = Sandbox(SPECS, sandbox.workspace, RunLimits(tool_calls=3))
    result = small.run('for i in range(10):\n    read_lines("a.py")')
    assert "tool call limit reached" in result.reply
    assert len(result.tool_calls) == 3


def test_output_before_an_error_is_kept(sandbox: Sandbox) -> None:
    """Printed output before an exception stays in the reply, followed by the error."""
    result = sandbox.run('print("step 1")\nraise ValueError("boom")')
    assert result.reply.startswith("step 1\nError: ")
    assert "ValueError: boom" in result.reply


def test_guard_refuses_a_tool(sandbox: Sandbox, tmp_path: Path) -> None:
    """A guard (read-only mode) refuses writing tools and nothing is written."""

    def read_only(spec: ToolSpec, args: dict[str, object]) -> str | None:
        return f"{spec.name} is refused in read-only mode" if spec.writes else None

    guarded = Sandbox(SPECS, sandbox.workspace, guard=read_only)
    result = guarded.run('write_text("new.txt", "data")')
    assert "write_text is refused in read-only mode" in result.reply
    assert not (sandbox.workspace.root / "new.txt").exists()


def test_type_check_against_stubs(sandbox: Sandbox) -> None:
    """With stubs, reading a missing attribute is caught before running."""
    from punie_tools.stubs import stubs

    checked = Sandbox(SPECS, sandbox.workspace, type_check_stubs=stubs(SPECS))
    result = checked.run('r = read_lines("a.py")\nprint(r.type_info)')
    assert result.type_errors is not None
    assert "type_info" in result.type_errors
    assert checked.run('print(read_lines("a.py").success)').reply == "True"
