"""``python -m punie_tools mcp``: every registered tool as an MCP server over stdio.

Names, descriptions and input schemas come from each ``ToolSpec``; results come back as
structured content (the result's fields) plus the text the model would see when printing
them. Every path stays inside the workspace, and failures are MCP tool errors, never a
crash of the server.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
from collections.abc import Sequence
from typing import Any

import anyio
import attrs
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from punie_tools.cli_common import open_tools
from punie_tools.policy import call_writes
from punie_tools.results import failure, result_text, structured
from punie_tools.sandbox import RunLimits, Sandbox
from punie_tools.spec import ToolSpec
from punie_tools.workspace import Workspace, WorkspaceError

EXECUTE_CODE = "execute_code"
_CODE_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {
            "type": "string",
            "description": "Python that calls the tools as functions and print()s what it needs",
        }
    },
    "required": ["code"],
    "additionalProperties": False,
}
_RUN_SCHEMA = {
    "type": "object",
    "properties": {
        "output": {"type": "string"},
        "error": {"type": ["string", "null"]},
        "tool_calls": {"type": "array", "items": {"type": "string"}},
        "seconds": {"type": "number"},
    },
    "required": ["output", "error", "tool_calls", "seconds"],
}


def output_schema(spec: ToolSpec) -> dict[str, Any]:
    """The JSON schema of a tool's structured content: one property per result field."""
    if attrs.has(spec.result_type):
        names = [f.name for f in attrs.fields(spec.result_type)]
    else:
        names = ["result"]
    return {"type": "object", "properties": {n: {} for n in names}, "required": names}


def tool_error(text: str) -> types.CallToolResult:
    """A tool error the client's model can read and correct."""
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


class ToolServer:
    """The registry's tools bound to one workspace, answering MCP tool requests."""

    def __init__(
        self,
        tools: Sequence[ToolSpec],
        workspace: Workspace,
        *,
        read_only: bool = False,
        execute_code: bool = False,
        limits: RunLimits | None = None,
    ) -> None:
        self.specs = {s.name: s for s in tools}
        self.workspace = workspace
        self.read_only = read_only
        self.execute_code = execute_code
        self.limits = limits or RunLimits()

    def refusal(self, spec: ToolSpec, args: dict[str, Any]) -> str | None:
        """Why this call may not run (read-only mode refuses writing calls), or None."""
        if self.read_only and call_writes(spec, args):
            return f"{spec.name} is refused: the server runs in --read-only mode"
        return None

    def tools(self) -> list[types.Tool]:
        """The MCP tool list: every spec, plus ``execute_code`` when enabled."""
        out = [self._tool(spec) for spec in self.specs.values()]
        if self.execute_code:
            out.append(
                types.Tool(
                    name=EXECUTE_CODE,
                    description=(
                        "Run Python in a sandbox where every tool of this server is a function; "
                        "returns what the code prints. No imports."
                    ),
                    input_schema=_CODE_SCHEMA,
                    output_schema=_RUN_SCHEMA,
                    annotations=types.ToolAnnotations(
                        read_only_hint=self.read_only, destructive_hint=not self.read_only
                    ),
                )
            )
        return out

    def _tool(self, spec: ToolSpec) -> types.Tool:
        description = spec.summary
        if spec.writes and self.read_only:
            description += " (writing calls are refused: the server runs --read-only)"
        return types.Tool(
            name=spec.name,
            description=description,
            input_schema=spec.json_schema(),
            output_schema=output_schema(spec),
            annotations=types.ToolAnnotations(
                read_only_hint=not spec.writes, destructive_hint=spec.writes
            ),
        )

    def call(self, name: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
        """Run one tool; every failure becomes a tool error."""
        arguments = dict(arguments or {})
        if name == EXECUTE_CODE and self.execute_code:
            return self._run_code(arguments)
        spec = self.specs.get(name)
        if spec is None:
            return tool_error(f"unknown tool {name!r}")
        try:
            bound = spec.bind((), arguments)
            refusal = self.refusal(spec, bound)
            if refusal:
                return tool_error(f"PermissionError: {refusal}")
            for injected in spec.injected:
                bound[injected] = self.workspace
            value = spec.function(**bound)
        except WorkspaceError as exc:
            return tool_error(f"PermissionError: {exc}")
        except Exception as exc:  # a tool's failure is the caller's answer, not a crash
            return tool_error(f"{type(exc).__name__}: {exc}")
        text = result_text(value)
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=text)],
            structured_content=structured(value),
            is_error=failure(value) is not None,
        )

    def _run_code(self, arguments: dict[str, Any]) -> types.CallToolResult:
        code = arguments.get("code")
        if not isinstance(code, str):
            return tool_error("execute_code() needs a string argument 'code'")
        sandbox = Sandbox(
            list(self.specs.values()), self.workspace, self.limits, guard=self.refusal
        )
        run = sandbox.run(code)
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=run.reply)],
            structured_content={
                "output": run.output,
                "error": run.error,
                "tool_calls": list(run.tool_calls),
                "seconds": run.seconds,
            },
            is_error=not run.ok,
        )

    def mcp_server(self) -> Server[Any]:
        """The low-level MCP server answering ``tools/list`` and ``tools/call``."""
        lock = anyio.Lock()  # tools share per-workspace resources: one call at a time

        async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
            return types.ListToolsResult(tools=self.tools())

        async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
            async with lock:
                return await anyio.to_thread.run_sync(self.call, params.name, params.arguments)

        return Server(
            "punie-tools",
            instructions=(
                f"Python coding tools working on {self.workspace.root}; "
                "paths are relative to that directory and cannot leave it."
            ),
            on_list_tools=list_tools,
            on_call_tool=call_tool,
        )

    async def serve_stdio(self) -> None:
        """Serve MCP over standard input and output until the client closes them."""
        server = self.mcp_server()
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_mcp(args: argparse.Namespace) -> int:
    """Serve the tools until the client disconnects."""
    opened = open_tools(str(args.workspace))
    if opened is None:
        return 2
    workspace, registry = opened
    server = ToolServer(
        registry.tools(),
        workspace,
        read_only=args.read_only,
        execute_code=args.execute_code,
        limits=RunLimits(seconds=args.timeout),
    )
    signal.signal(signal.SIGTERM, _stop)
    with workspace, contextlib.suppress(KeyboardInterrupt):
        anyio.run(server.serve_stdio)
    return 0
