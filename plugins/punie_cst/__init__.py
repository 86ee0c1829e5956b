"""punie_cst: libcst-based code tools (find patterns, scope-aware rename, add imports)."""

from __future__ import annotations

from pathlib import Path

from punie_cst.pools import FIXTURE, pools
from punie_cst.tools import cst_add_import, cst_find_pattern, cst_rename
from punie_tools import (
    EvalQuery,
    ExampleTemplate,
    ToolSpec,
    hookimpl,
    load_eval_queries,
    templates_in,
)

HERE = Path(__file__).parent
CATEGORY = "cst"


@hookimpl
def punie_tools() -> list[ToolSpec]:
    """The three CST tools; rename and add-import can write the file, so they are marked."""
    return [
        ToolSpec.from_function(cst_find_pattern, category=CATEGORY),
        ToolSpec.from_function(cst_rename, category=CATEGORY, writes=True, preview_flag="write"),
        ToolSpec.from_function(
            cst_add_import, category=CATEGORY, writes=True, preview_flag="write"
        ),
    ]


@hookimpl
def punie_example_templates() -> list[ExampleTemplate]:
    """Templates rendered against the sample_project fixture."""
    return templates_in(__name__, FIXTURE, pools())


@hookimpl
def punie_eval_queries() -> list[EvalQuery]:
    """Held-out queries for the CST tools."""
    return load_eval_queries(HERE / "eval.toml")
