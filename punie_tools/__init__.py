"""punie-tools: a pluggable tool registry and Code Mode sandbox for Python coding agents."""

from punie_tools.evalqueries import EvalQuery, ExpectedCall, load_eval_queries
from punie_tools.fixtures import Fixture
from punie_tools.hookspecs import hookimpl
from punie_tools.registry import PluginError, Registry, RegistryError
from punie_tools.sandbox import RunLimits, RunResult, Sandbox, run_code
from punie_tools.spec import Parameter, SpecError, ToolSpec
from punie_tools.templates import ExampleTemplate, templates_in
from punie_tools.workspace import Workspace, WorkspaceError

__all__ = [
    "EvalQuery",
    "ExampleTemplate",
    "ExpectedCall",
    "Fixture",
    "Parameter",
    "PluginError",
    "Registry",
    "RegistryError",
    "RunLimits",
    "RunResult",
    "Sandbox",
    "SpecError",
    "ToolSpec",
    "Workspace",
    "WorkspaceError",
    "hookimpl",
    "load_eval_queries",
    "run_code",
    "templates_in",
]
