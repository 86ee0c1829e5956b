"""The ACP agent as a subprocess, driven by the protocol library's client side."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn

import pytest
from acp import (
    PROTOCOL_VERSION,
    RequestError,
    RequestPermissionResponse,
    spawn_agent_process,
    text_block,
)
from acp.client.connection import ClientSideConnection
from acp.meta import CLIENT_METHODS
from acp.schema import AllowedOutcome

from punie_tools import Registry
from punie_tools.acp_agent import PunieAcpAgent, not_offered
from tests.agent.test_agent_model import fixture_adapter  # noqa: F401  (the trained adapter)
from tests.serve.acp_scripted import NOTE, scripted
from tests.serve.procs import descendants, wait_gone

REPO = Path(__file__).resolve().parents[2]


class RecordingClient:
    """An ACP client that records updates and answers permission requests."""

    def __init__(self) -> None:
        self.updates: list[Any] = []
        self.permissions: list[Any] = []
        self.answer = "allow_once"

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        """Record a session update."""
        self.updates.append(update)

    async def request_permission(
        self, session_id: str, tool_call: Any, options: list[Any], **kwargs: Any
    ) -> RequestPermissionResponse:
        """Record the request and answer with ``self.answer``."""
        self.permissions.append((tool_call, options))
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id=self.answer)
        )

    # The rest of acp's ``Client`` protocol: files, terminals and elicitation are not offered.
    write_text_file = not_offered(CLIENT_METHODS["fs_write_text_file"])
    read_text_file = not_offered(CLIENT_METHODS["fs_read_text_file"])
    create_terminal = not_offered(CLIENT_METHODS["terminal_create"])
    terminal_output = not_offered(CLIENT_METHODS["terminal_output"])
    release_terminal = not_offered(CLIENT_METHODS["terminal_release"])
    wait_for_terminal_exit = not_offered(CLIENT_METHODS["terminal_wait_for_exit"])
    kill_terminal = not_offered(CLIENT_METHODS["terminal_kill"])
    create_elicitation = not_offered(CLIENT_METHODS["elicitation_create"])

    async def complete_elicitation(self, elicitation_id: str, **kwargs: Any) -> None:
        """Ignored: no elicitation is ever created."""

    async def ext_method(self, method: str, params: dict[str, Any]) -> NoReturn:
        raise RequestError.method_not_found(f"_{method}")

    async def ext_notification(self, method: str, params: dict[str, Any]) -> None:
        """Ignored."""

    def on_connect(self, conn: Any) -> None:
        """Nothing to keep: the test drives the connection itself."""

    def take(self) -> list[Any]:
        """The updates so far, forgetting them."""
        out, self.updates = self.updates, []
        return out

    async def wait_for(self, kind: str, seconds: float = 30.0) -> None:
        """Wait until an update of this kind arrived."""
        deadline = time.monotonic() + seconds
        while not any(u.session_update == kind for u in self.updates):
            assert time.monotonic() < deadline, f"no {kind} update"
            await asyncio.sleep(0.02)


def message_text(updates: list[Any]) -> str:
    """The agent's streamed message text."""
    return "".join(u.content.text for u in updates if u.session_update == "agent_message_chunk")


def drive(
    client: RecordingClient,
    args: list[str],
    body: Callable[[ClientSideConnection, str], Awaitable[None]],
    cwd: Path,
) -> set[int]:
    """Spawn the agent, open a session, run ``body``; the agent's process tree."""
    tree: set[int] = set()

    async def main() -> None:
        async with spawn_agent_process(
            client,
            sys.executable,
            *args,
            cwd=REPO,
            env=dict(os.environ),
            transport_kwargs={"stderr": None},  # the agent's log goes to ours
        ) as (conn, process):
            init = await conn.initialize(protocol_version=PROTOCOL_VERSION)
            assert init.protocol_version == PROTOCOL_VERSION
            session = await conn.new_session(cwd=str(cwd), mcp_servers=[])
            await body(conn, session.session_id)
            tree.update({process.pid} | descendants(process.pid))

    asyncio.run(main())
    return tree


def test_close_session_forgets_it_and_unoffered_methods_are_not_found(tmp_path: Path) -> None:
    """``session/close`` closes and forgets the session; a method the agent does not offer
    answers "method not found", as if it were absent."""
    agent = PunieAcpAgent(Registry.load().tools(), scripted)
    agent.on_connect(RecordingClient())

    async def main() -> None:
        sid = (await agent.new_session(cwd=str(tmp_path))).session_id
        assert await agent.close_session(session_id=sid) is None
        assert sid not in agent.sessions
        with pytest.raises(RequestError) as unknown:
            await agent.prompt(session_id=sid, prompt=[text_block("hello")])
        assert unknown.value.code == -32602
        with pytest.raises(RequestError) as absent:
            await agent.load_session(cwd=str(tmp_path), session_id=sid)
        assert (absent.value.code, absent.value.data) == (-32601, {"method": "session/load"})

    asyncio.run(main())


def test_scripted_session_tool_call_permission_and_cancel(tmp_path: Path) -> None:
    """A prompt with one Code Mode run and its permission request, a refusal, cancelling a
    generation and a running tool; the session answers afterwards; no process is left."""
    project = Registry.load().fixture("sample_project").materialize(tmp_path)
    client = RecordingClient()
    seen: dict[str, Any] = {}

    async def body(conn: ClientSideConnection, sid: str) -> None:
        seen["write"] = await conn.prompt(session_id=sid, prompt=[text_block("write a note")])
        seen["write_updates"] = client.take()
        client.answer = "reject_once"
        (project / "notes.txt").write_text("old\n")
        seen["refused"] = await conn.prompt(session_id=sid, prompt=[text_block("write a note")])
        seen["refused_updates"] = client.take()
        for query, kind in (("talk slowly", "agent_message_chunk"), ("spin", "tool_call")):
            task = asyncio.create_task(conn.prompt(session_id=sid, prompt=[text_block(query)]))
            await client.wait_for(kind)
            started = time.monotonic()
            await conn.cancel(session_id=sid)
            seen[query] = await asyncio.wait_for(task, 30)
            seen[f"{query}_seconds"] = time.monotonic() - started
            seen[f"{query}_updates"] = client.take()
        seen["hello"] = await conn.prompt(session_id=sid, prompt=[text_block("hello")])
        seen["hello_updates"] = client.take()

    tree = drive(client, ["-m", "tests.serve.acp_scripted", str(project)], body, project)

    assert seen["write"].stop_reason == "end_turn"
    updates = seen["write_updates"]
    kinds = [u.session_update for u in updates]
    assert kinds.count("tool_call") == 1
    start = next(u for u in updates if u.session_update == "tool_call")
    finish = next(u for u in updates if u.session_update == "tool_call_update")
    assert start.status == "in_progress"
    assert 'write_file("notes.txt"' in start.raw_input["code"]
    assert finish.tool_call_id == start.tool_call_id
    assert finish.status == "completed"
    assert finish.content[0].content.text == "Wrote 14 characters (1 lines) to notes.txt"
    assert message_text(updates) == "I will write it.\n\nnotes.txt now says hello."
    assert "<tool_call>" not in message_text(updates)
    assert len(client.permissions) == 2  # allowed, then refused
    tool_call, options = client.permissions[0]
    assert tool_call.tool_call_id == start.tool_call_id
    assert tool_call.title.startswith("write_file(path='notes.txt'")
    assert {o.option_id for o in options} >= {"allow_once", "reject_once"}

    assert seen["refused"].stop_reason == "end_turn"
    refused = next(u for u in seen["refused_updates"] if u.session_update == "tool_call_update")
    assert refused.status == "failed"
    assert "write_file was refused by the user" in refused.content[0].content.text
    assert (project / "notes.txt").read_text() == "old\n"
    assert NOTE not in (project / "notes.txt").read_text()

    assert seen["talk slowly"].stop_reason == "cancelled"
    assert seen["talk slowly_seconds"] < 5
    assert len(message_text(seen["talk slowly_updates"])) < len("word " * 2000)
    assert seen["spin"].stop_reason == "cancelled"
    assert seen["spin_seconds"] < 4  # before the 5 s sandbox limit
    spun = next(u for u in seen["spin_updates"] if u.session_update == "tool_call_update")
    assert spun.status == "failed"
    assert "cancelled by the client" in spun.content[0].content.text

    assert seen["hello"].stop_reason == "end_turn"
    assert message_text(seen["hello_updates"]) == "Hello! Still here."
    assert wait_gone(tree) == set()


def test_real_model_with_trained_adapter(adapter: Path, tmp_path: Path) -> None:
    """`python -m punie_tools acp` loads the embedded model and a trained adapter, streams a
    reply to a prompt, saves the transcript and exits with the client."""
    project = Registry.load().fixture("sample_project").materialize(tmp_path)
    transcripts = tmp_path / "transcripts"
    client = RecordingClient()
    seen: dict[str, Any] = {}
    args = [
        "-m",
        "punie_tools",
        "acp",
        "--workspace",
        str(project),
        "--adapter",
        str(adapter),
        "--max-steps",
        "2",
        "--max-tokens",
        "48",
        "--read-only",
        "--transcripts",
        str(transcripts),
    ]

    async def body(conn: ClientSideConnection, sid: str) -> None:
        seen["reply"] = await conn.prompt(
            session_id=sid, prompt=[text_block("Which files changed in git?")]
        )
        seen["updates"] = client.take()

    tree = drive(client, args, body, project)
    assert seen["reply"].stop_reason in ("end_turn", "max_turn_requests")
    kinds = {u.session_update for u in seen["updates"]}
    assert kinds & {"agent_message_chunk", "tool_call"}
    [saved] = list(transcripts.glob("session-*.jsonl"))
    messages = json.loads(saved.read_text())["messages"]
    assert [m["role"] for m in messages[:3]] == ["system", "user", "assistant"]
    assert messages[1]["content"] == "Which files changed in git?"
    assert wait_gone(tree) == set()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workspace", "/no/such/dir"], "is not a directory"),
        (["--adapter", "/no/such/adapter"], "adapter /no/such/adapter is not a directory"),
    ],
)
def test_acp_user_mistakes_are_one_line(args: list[str], message: str) -> None:
    """A bad workspace or adapter: one line on stderr, exit 2, no traceback."""
    import subprocess

    out = subprocess.run(
        [sys.executable, "-m", "punie_tools", "acp", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert message in out.stderr.strip().splitlines()[-1]
