"""punie_lsp: definitions, references, hover and symbols from a real language server.

Server choice: ``ty server`` (Astral's ty, installed with the project), measured against
basedpyright, jedi-language-server and python-lsp-server on a small package over pygls's
client. All of ty, basedpyright and jedi answer definition, references, hover and
documentSymbol correctly; ty starts fastest (~0.2 s to initialize, warm requests in a few
ms, where basedpyright took 2.3 s for its first definition and needs Node.js) and its
workspace/symbol matches partial names ("discount" finds ``discounted``; jedi's returned
nothing), while pylsp has no workspace/symbol at all. ty's two gaps are closed here:
workspace symbols carry the whole range (starting at a decorator) and no container, so the
file's outline supplies the name's line and the enclosing symbol; and its notebook
capability, which lsprotocol cannot parse, is ignored. ``PUNIE_LSP_SERVER`` selects another
server command.
"""

from __future__ import annotations

from pathlib import Path

from punie_lsp.context import TEMPLATE_CONTEXT
from punie_lsp.tools import (
    document_symbols,
    find_references,
    goto_definition,
    hover,
    workspace_symbols,
)
from punie_tools import (
    EvalQuery,
    ExampleTemplate,
    ToolSpec,
    hookimpl,
    load_eval_queries,
    load_templates,
)

HERE = Path(__file__).parent
CATEGORY = "lsp"
FIXTURE = "sample_project"


@hookimpl
def punie_tools() -> list[ToolSpec]:
    """The five read-only LSP tools."""
    return [
        ToolSpec.from_function(goto_definition, category=CATEGORY),
        ToolSpec.from_function(find_references, category=CATEGORY),
        ToolSpec.from_function(hover, category=CATEGORY),
        ToolSpec.from_function(document_symbols, category=CATEGORY),
        ToolSpec.from_function(workspace_symbols, category=CATEGORY),
    ]


@hookimpl
def punie_example_templates() -> list[ExampleTemplate]:
    """Templates over the sample_project fixture (declared by punie_validation)."""
    return load_templates(HERE / "templates", fixture=FIXTURE, context=TEMPLATE_CONTEXT)


@hookimpl
def punie_eval_queries() -> list[EvalQuery]:
    """Held-out queries for the LSP tools."""
    return load_eval_queries(HERE / "eval.toml")
