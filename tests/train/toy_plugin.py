"""A drop-in plugin for the eval tests: a reading tool, a writing tool, queries and fixtures."""

from __future__ import annotations

import textwrap
from pathlib import Path

TOY_INIT = '''
"""Toy punie plugin for evaluation tests."""

from pathlib import Path

import attrs

from punie_tools import EvalQuery, ExpectedCall, Fixture, ToolSpec, Workspace, hookimpl


@attrs.frozen
class TextResult:
    """The text of a file."""

    success: bool
    text: str
    parse_error: str | None = None


def read_text(path: str, workspace: Workspace, upper: bool = False) -> TextResult:
    """Read a file of the workspace.

    Args:
        path: file to read
        upper: upper-case the text
    """
    try:
        text = workspace.resolve(path).read_text()
    except (OSError, ValueError) as exc:
        return TextResult(False, "", parse_error=str(exc))
    return TextResult(True, text.upper() if upper else text)


def append_text(path: str, text: str, workspace: Workspace) -> TextResult:
    """Append text to a file of the workspace."""
    target = workspace.resolve(path)
    with target.open("a") as handle:
        handle.write(text)
    return TextResult(True, target.read_text())


def broken_setup(root: Path) -> None:
    raise RuntimeError("setup exploded")


@hookimpl
def punie_tools():
    return [
        ToolSpec.from_function(read_text, category="toy"),
        ToolSpec.from_function(append_text, category="toy", writes=True),
    ]


@hookimpl
def punie_eval_queries():
    return [
        EvalQuery(id="toy-read-1", query="What does notes.txt say?", category="toy",
                  fixture="toy_files", expected=(ExpectedCall("read_text", {"path": "notes.txt"}),),
                  keywords=("read_text",)),
        EvalQuery(id="toy-append-1", query="Add 'bye' to notes.txt", category="toy",
                  fixture="toy_files",
                  expected=(ExpectedCall("append_text", {"path": "notes.txt", "text": "bye"}),)),
        EvalQuery(id="flow-1", query="Read notes.txt, then append its first word to it",
                  category="flow", fixture="toy_files", multi_step=True,
                  expected=(ExpectedCall("read_text", {"path": "notes.txt"}),
                            ExpectedCall("append_text", {"path": "notes.txt"})),
                  keywords=("read_text", "append_text")),
        EvalQuery(id="broken-1", query="Read notes.txt", category="flow", fixture="toy_broken",
                  expected=(ExpectedCall("read_text", {"path": "notes.txt"}),)),
    ]


@hookimpl
def punie_fixtures():
    files = Path(__file__).parent / "files"
    return [Fixture("toy_files", files), Fixture("toy_broken", files, setup=broken_setup)]
'''


def write_toy_plugin(directory: Path) -> Path:
    """Write the ``punie_evaltoy`` drop-in package into ``directory``; return the package dir."""
    pkg = directory / "punie_evaltoy"
    (pkg / "files").mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent(TOY_INIT).lstrip())
    (pkg / "files" / "notes.txt").write_text("hello world\n")
    return pkg
