"""Run Code Mode Python in pydantic-monty, with the registry's tools as the only callables."""

from __future__ import annotations

import ast
import atexit
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import pydantic_monty as monty

from punie_tools import timelimits
from punie_tools.spec import ToolSpec
from punie_tools.workspace import Workspace, WorkspaceError

if TYPE_CHECKING:
    from punie_tools.registry import Registry


@attrs.frozen
class RunLimits:
    """Limits on one Code Mode run."""

    seconds: float = 20.0
    memory_bytes: int = 256 * 1024 * 1024
    tool_calls: int = 30
    recursion_depth: int = 200
    output_chars: int = 20_000


@attrs.frozen
class RunResult:
    """What a Code Mode run produced: the captured stdout and, if it failed, why."""

    output: str
    error: str | None = None
    tool_calls: tuple[str, ...] = ()
    seconds: float = 0.0
    type_errors: str | None = None
    values: tuple[Any, ...] = attrs.field(default=(), eq=False, repr=False)
    """What each tool call returned, in call order, as the tool gave it (not the sandbox's copy)."""

    @property
    def ok(self) -> bool:
        """True when the code ran to the end without an error."""
        return self.error is None

    @property
    def reply(self) -> str:
        """The text that goes back to the model inside ``<tool_response>``."""
        parts = [self.output.rstrip("\n")] if self.output.strip() else []
        if self.error:
            parts.append(f"Error: {self.error}")
        if not parts:
            return "(no output: print() the values you need)"
        return "\n".join(parts)


class ToolCallLimitError(RuntimeError):
    """The code called tools more often than the run allows."""


class _Result(monty.ClassInstance):
    """Exposes an attrs result object (and the ones nested in it) read-only to the sandbox."""

    def convert_value(self, /, name: str, value: Any) -> Any:
        return to_sandbox(value)


def to_sandbox(value: Any) -> Any:
    """Convert a tool's return value into something the sandbox can hold."""
    if attrs.has(type(value)):
        return _Result(value, eager_attrs=[f.name for f in attrs.fields(type(value))])
    if isinstance(value, list | tuple):
        return [to_sandbox(v) for v in value]
    if isinstance(value, dict):
        return {k: to_sandbox(v) for k, v in value.items()}
    return value


_pool_lock = threading.Lock()
_pool: monty.Monty | None = None


def _get_pool() -> monty.Monty:
    global _pool
    with _pool_lock:
        if _pool is None:
            pool = monty.Monty(min_processes=1, max_processes=4)
            pool.__enter__()
            atexit.register(pool.__exit__, None, None, None)
            _pool = pool
        return _pool


def check_code(code: str) -> str | None:
    """Reject code Code Mode cannot run before starting the sandbox; None if acceptable."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return f"SyntaxError: {exc.msg} (line {exc.lineno})"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            return (
                f"ImportError: imports are not available in Code Mode (line {node.lineno}); "
                "call the tools directly"
            )
    return None


class Sandbox:
    """Runs Code Mode code with the registry's tools bound to one workspace."""

    def __init__(
        self,
        tools: Registry | Mapping[str, ToolSpec] | list[ToolSpec],
        workspace: Workspace,
        limits: RunLimits | None = None,
        *,
        guard: Callable[[ToolSpec, dict[str, Any]], str | None] | None = None,
        type_check_stubs: str | None = None,
    ) -> None:
        specs = tools.values() if isinstance(tools, Mapping) else list(tools)
        self.tools = {s.name: s for s in specs}
        self.workspace = workspace
        self.limits = limits or RunLimits()
        self.guard = guard
        self.type_check_stubs = type_check_stubs

    def run(self, code: str) -> RunResult:
        """Run ``code``; every failure comes back inside the result, never as an exception."""
        started = time.perf_counter()
        problem = check_code(code)
        if problem is not None:
            return RunResult(output="", error=problem, seconds=time.perf_counter() - started)
        calls: list[str] = []
        values: list[Any] = []
        lookup = {name: self._bind(spec, calls, values) for name, spec in self.tools.items()}
        out = monty.CollectString()
        error: str | None = None
        type_errors: str | None = None
        limits: monty.ResourceLimits = {
            "max_feed_duration_secs": timelimits.seconds(self.limits.seconds),
            "max_memory": self.limits.memory_bytes,
            "max_recursion_depth": self.limits.recursion_depth,
        }
        try:
            with _get_pool().checkout(
                limits=limits,
                type_check=self.type_check_stubs is not None,
                type_check_stubs=self.type_check_stubs,
                type_check_format="concise",
            ) as session:
                session.feed_run(code, external_lookup=lookup, print_callback=out)
        except monty.MontyTypingError as exc:
            type_errors = str(exc)
            error = "type check failed:\n" + type_errors
        except monty.MontyRuntimeError as exc:
            error = _runtime_message(exc)
        except monty.MontyCrashedError as exc:
            error = f"the sandbox stopped: {exc}"
        except monty.MontyError as exc:
            error = f"{type(exc).__name__}: {exc}"
        if error is not None and "time limit" in error:
            timelimits.hit(f"the sandbox: {error}")
        output = out.output
        if len(output) > self.limits.output_chars:
            cut = self.limits.output_chars
            output = output[:cut] + f"\n... [{len(out.output) - cut} more characters cut]"
        return RunResult(
            output=output,
            error=error,
            tool_calls=tuple(calls),
            seconds=time.perf_counter() - started,
            type_errors=type_errors,
            values=tuple(values),
        )

    def _bind(self, spec: ToolSpec, calls: list[str], values: list[Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if len(calls) >= self.limits.tool_calls:
                raise ToolCallLimitError(
                    f"tool call limit reached ({self.limits.tool_calls} calls per run)"
                )
            calls.append(spec.name)
            bound = spec.bind(args, kwargs)
            if self.guard is not None:
                refusal = self.guard(spec, bound)
                if refusal:
                    raise PermissionError(refusal)
            for name in spec.injected:
                bound[name] = self.workspace
            try:
                value = spec.function(**bound)
            except WorkspaceError as exc:
                raise PermissionError(str(exc)) from None
            values.append(value)
            return to_sandbox(value)

        call.__name__ = spec.name
        return call


def _runtime_message(exc: monty.MontyRuntimeError) -> str:
    text = str(exc).strip()
    return text.splitlines()[-1] if text.count("\n") > 20 else text


def run_code(
    code: str,
    registry: Registry,
    workspace: Workspace,
    limits: RunLimits | None = None,
) -> RunResult:
    """Run Code Mode code once with every registry tool bound to ``workspace``."""
    return Sandbox(registry.tools(), workspace, limits).run(code)
