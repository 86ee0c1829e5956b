"""The MCP server as a subprocess, driven by the official SDK's stdio client."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from punie_tools import Registry, ToolSpec, Workspace
from punie_tools.results import result_text, structured
from tests.serve.procs import server_tree, wait_gone

MARKER = "punie_tools mcp"


def direct(spec: ToolSpec, workspace: Workspace, **arguments: Any) -> Any:
    """Call a tool in-process, the way the sandbox does."""
    bound = spec.bind((), arguments)
    bound.update({name: workspace for name in spec.injected})
    return spec.function(**bound)


def serve(project: Path, body: Callable[[ClientSession], Awaitable[None]], *flags: str) -> set[int]:
    """Run ``body`` against a fresh server on ``project``; the server's process tree."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "punie_tools", "mcp", "--workspace", str(project), *flags],
        env=dict(os.environ),
    )
    tree: set[int] = set()

    async def main() -> None:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            await body(session)
            tree.update(server_tree(MARKER))

    anyio.run(main)
    return tree


@pytest.fixture(name="registry", scope="module")
def fixture_registry() -> Registry:
    """The installed plugins."""
    return Registry.load()


@pytest.fixture(name="project")
def fixture_project(registry: Registry, tmp_path: Path) -> Path:
    """The sample project with the tdom fixture copied into ``tdom_app/``."""
    project = registry.fixture("sample_project").materialize(tmp_path / "ws")
    shutil.copytree(registry.fixture("tdom_app").path, project / "tdom_app")
    return project


def test_tools_over_mcp_match_direct_calls(registry: Registry, project: Path) -> None:
    """26 tools with their schemas; three categories answer as direct calls; errors are tool
    errors; the server keeps answering and leaves no process behind."""
    specs = {s.name: s for s in registry.tools()}
    calls = {
        "ruff_check": {"path": "inventory"},
        "document_symbols": {"file_path": "inventory/models.py"},
        "validate_component": {"file_path": "tdom_app/components/badge.py"},
    }
    answers: dict[str, Any] = {}

    async def body(session: ClientSession) -> None:
        listed = (await session.list_tools()).tools
        answers["tools"] = {t.name: t for t in listed}
        for name, args in calls.items():
            answers[name] = await session.call_tool(name, args)
        answers["outside"] = await session.call_tool("read_file", {"path": "../outside.txt"})
        answers["bad_args"] = await session.call_tool("ruff_check", {"nope": 1})
        answers["after"] = await session.call_tool("git_status", {})
        answers["ping"] = await session.send_ping()

    (project.parent / "outside.txt").write_text("secret\n")
    tree = serve(project, body)

    tools = answers["tools"]
    assert len(tools) == 26
    assert set(tools) == set(specs)
    for name, tool in tools.items():
        spec = specs[name]
        assert tool.description and tool.description.startswith(spec.summary)
        assert tool.input_schema == spec.json_schema()
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is (not spec.writes)
        assert tool.annotations.destructive_hint is spec.writes
    assert tools["write_file"].annotations.destructive_hint is True
    assert tools["read_file"].annotations.read_only_hint is True

    with Workspace(project) as ws:
        for name, args in calls.items():
            expected = direct(specs[name], ws, **args)
            got = answers[name]
            assert not got.is_error, got.content
            assert got.structured_content == structured(expected)
            assert got.content[0].text == result_text(expected)
    assert answers["validate_component"].structured_content["issues"]
    assert answers["document_symbols"].structured_content["symbols"]

    outside = answers["outside"]
    assert outside.is_error
    assert "leaves the workspace" in outside.content[0].text
    assert "secret" not in outside.content[0].text
    assert answers["bad_args"].is_error
    assert "unexpected keyword argument 'nope'" in answers["bad_args"].content[0].text
    assert not answers["after"].is_error
    assert answers["after"].structured_content["success"] is True

    assert tree, "the server process was not found"
    assert wait_gone(tree) == set()


def test_dropin_plugin_is_served(dropin_path: Path, tmp_path: Path) -> None:
    """A PUNIE_PLUGIN_PATH drop-in makes 27 tools, and its tool answers over MCP."""
    (tmp_path / "a.txt").write_text("hello\n")
    answers: dict[str, Any] = {}

    async def body(session: ClientSession) -> None:
        answers["names"] = [t.name for t in (await session.list_tools()).tools]
        answers["shout"] = await session.call_tool("shout", {"path": "a.txt"})

    tree = serve(tmp_path, body)
    assert len(answers["names"]) == 27
    assert "shout" in answers["names"]
    assert answers["shout"].structured_content == {
        "success": True,
        "text": "HELLO\n",
        "parse_error": None,
    }
    assert wait_gone(tree) == set()


def test_read_only_and_execute_code(project: Path) -> None:
    """--read-only refuses writes (previews still run); --execute-code runs Code Mode."""
    answers: dict[str, Any] = {}
    code = 'r = git_status(".")\nprint(r.file_count)\nwrite_file("x.txt", "no")'

    async def body(session: ClientSession) -> None:
        answers["names"] = [t.name for t in (await session.list_tools()).tools]
        answers["write"] = await session.call_tool("write_file", {"path": "x.txt", "content": "1"})
        answers["preview"] = await session.call_tool(
            "cst_rename",
            {"file_path": "inventory/models.py", "old_name": "Product", "new_name": "Item"},
        )
        answers["code"] = await session.call_tool("execute_code", {"code": code})

    tree = serve(project, body, "--read-only", "--execute-code")
    assert len(answers["names"]) == 27
    assert answers["names"][-1] == "execute_code"
    assert answers["write"].is_error
    assert "--read-only" in answers["write"].content[0].text
    assert not answers["preview"].is_error
    run = answers["code"]
    assert run.is_error
    assert run.structured_content["tool_calls"] == ["git_status", "write_file"]
    assert run.structured_content["output"].strip().isdigit()
    assert "--read-only" in run.structured_content["error"]
    assert not (project / "x.txt").exists()
    assert wait_gone(tree) == set()
