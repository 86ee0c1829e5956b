"""punie_text: read and write files and run programs inside the workspace."""

from __future__ import annotations

from pathlib import Path

from punie_text.pools import FIXTURE, pools
from punie_text.tools import read_file, run_command, write_file
from punie_tools import (
    EvalQuery,
    ExampleTemplate,
    ToolSpec,
    hookimpl,
    load_eval_queries,
    templates_in,
)

HERE = Path(__file__).parent
CATEGORY = "text"


@hookimpl
def punie_tools() -> list[ToolSpec]:
    """read_file, write_file and run_command (the last two change the workspace)."""
    return [
        ToolSpec.from_function(read_file, category=CATEGORY),
        ToolSpec.from_function(write_file, category=CATEGORY, writes=True),
        ToolSpec.from_function(run_command, category=CATEGORY, writes=True),
    ]


@hookimpl
def punie_example_templates() -> list[ExampleTemplate]:
    """Templates over the sample_project fixture (declared by punie_validation)."""
    return templates_in(__name__, FIXTURE, pools())


@hookimpl
def punie_eval_queries() -> list[EvalQuery]:
    """Held-out queries for the text tools."""
    return load_eval_queries(HERE / "eval.toml")
