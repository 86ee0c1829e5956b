"""punie_git: git status, diff and log from the real ``git`` program."""

from __future__ import annotations

from pathlib import Path

from punie_git.pools import FIXTURE, pools
from punie_git.tools import git_diff, git_log, git_status
from punie_tools import (
    EvalQuery,
    ExampleTemplate,
    ToolSpec,
    hookimpl,
    load_eval_queries,
    templates_in,
)

HERE = Path(__file__).parent
CATEGORY = "git"


@hookimpl
def punie_tools() -> list[ToolSpec]:
    """git_status, git_diff and git_log (all read-only)."""
    return [
        ToolSpec.from_function(git_status, category=CATEGORY),
        ToolSpec.from_function(git_diff, category=CATEGORY),
        ToolSpec.from_function(git_log, category=CATEGORY),
    ]


@hookimpl
def punie_example_templates() -> list[ExampleTemplate]:
    """Templates over the sample_project fixture, whose setup scripts a git history."""
    return templates_in(__name__, FIXTURE, pools())


@hookimpl
def punie_eval_queries() -> list[EvalQuery]:
    """Held-out queries for the git tools."""
    return load_eval_queries(HERE / "eval.toml")
