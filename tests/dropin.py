"""A drop-in plugin package written into a temporary directory (shared by the test suites)."""

from __future__ import annotations

import textwrap
from pathlib import Path

SHOUT_INIT = '''
"""A drop-in punie plugin: one tool, one template, one eval query, one fixture."""

from pathlib import Path

import attrs

from punie_tools import (
    EvalQuery, ExampleTemplate, ExpectedCall, Fixture, ToolSpec, Workspace, hookimpl,
)


@attrs.frozen
class ShoutResult:
    """The shouted text of a file."""

    success: bool
    text: str
    parse_error: str | None = None


def shout(path: str, workspace: Workspace) -> ShoutResult:
    """Return the text of a file in upper case.

    Args:
        path: file to read, relative to the workspace
    """
    try:
        return ShoutResult(True, workspace.resolve(path).read_text().upper())
    except (OSError, ValueError) as exc:
        return ShoutResult(False, "", parse_error=str(exc))


TEMPLATE = """\\
{% block query %}{{ choice(["Shout the file", "Read aloud, loudly,", "Uppercase"]) }} \\
{{- " " ~ choice(files) }}{% endblock %}
{% block code %}r = shout("{{ choice(files) }}")
print(r.text){% endblock %}
{% block answer %}It says: {{ output }}{% endblock %}
"""


@hookimpl
def punie_tools():
    return [ToolSpec.from_function(shout, category="loud")]


@hookimpl
def punie_example_templates():
    return [ExampleTemplate("shout_file", TEMPLATE, fixture="shout_files",
                            context={"files": ["a.txt", "b.txt"]})]


@hookimpl
def punie_eval_queries():
    return [EvalQuery(id="loud-1", query="Make a.txt loud", category="loud",
                      fixture="shout_files",
                      expected=(ExpectedCall("shout", {"path": "a.txt"}),),
                      keywords=("shout",))]


@hookimpl
def punie_fixtures():
    return [Fixture("shout_files", Path(__file__).parent / "files")]
'''


def write_shout_plugin(directory: Path) -> Path:
    """Write the ``punie_shout`` drop-in package into ``directory``; return the package dir."""
    pkg = directory / "punie_shout"
    (pkg / "files").mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent(SHOUT_INIT).lstrip())
    (pkg / "files" / "a.txt").write_text("hello\n")
    (pkg / "files" / "b.txt").write_text("quiet please\n")
    return pkg


def write_broken_plugin(directory: Path) -> Path:
    """Write a drop-in module that raises on import."""
    path = directory / "punie_broken.py"
    path.write_text('raise RuntimeError("this plugin is broken on purpose")\n')
    return path
