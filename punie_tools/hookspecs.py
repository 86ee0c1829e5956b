"""The hooks a punie-tools plugin implements: the only seam between core and plugins."""

from __future__ import annotations

import pluggy

from punie_tools.evalqueries import EvalQuery
from punie_tools.fixtures import Fixture
from punie_tools.spec import ToolSpec
from punie_tools.templates import ExampleTemplate

PROJECT = "punie_tools"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def punie_tools() -> list[ToolSpec]:
    """Return the tools this plugin provides.

    Each is a ``ToolSpec.from_function(fn, category=...)``; names must be unique across
    all plugins (a clash is an error naming both plugins).
    """
    raise NotImplementedError


@hookspec
def punie_example_templates() -> list[ExampleTemplate]:
    """Return the Jinja templates from which ``punie_datagen`` renders training examples."""
    raise NotImplementedError


@hookspec
def punie_eval_queries() -> list[EvalQuery]:
    """Return held-out evaluation queries with the calls a correct answer makes."""
    raise NotImplementedError


@hookspec
def punie_fixtures() -> list[Fixture]:
    """Return the fixture workspaces the plugin's templates and eval queries run against."""
    raise NotImplementedError
