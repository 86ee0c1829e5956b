"""The agent behind ACP (Agent Client Protocol): sessions, prompts, streamed replies.

Each session is an ``Agent`` on a workspace. A prompt runs the agent loop in a worker
thread: model text streams to the client as message chunks (Code Mode call markup hidden),
each Code Mode run is reported as a tool call with its output, writing tools ask the client
for permission, and ``session/cancel`` stops the generation or the running tool.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from types import CoroutineType
from typing import Any, NoReturn, TypeVar

from acp import (
    PROTOCOL_VERSION,
    InitializeResponse,
    NewSessionResponse,
    PromptResponse,
    RequestError,
)
from acp.interfaces import Client
from acp.meta import AGENT_METHODS
from acp.schema import (
    AcpMcpServer,
    AgentCapabilities,
    AudioContentBlock,
    ClientCapabilities,
    CloseSessionResponse,
    EmbeddedResourceContentBlock,
    HttpMcpServer,
    ImageContentBlock,
    Implementation,
    McpServerStdio,
    PromptCapabilities,
    ResourceContentBlock,
    SseMcpServer,
    TextContentBlock,
)

from punie_tools.acp_session import AcpOptions, AcpSession, Link, StreamingModel
from punie_tools.spec import ToolSpec
from punie_tools.workspace import Workspace, WorkspaceError

T = TypeVar("T")
McpServer = HttpMcpServer | SseMcpServer | AcpMcpServer | McpServerStdio
ContentBlock = (
    TextContentBlock
    | ImageContentBlock
    | AudioContentBlock
    | ResourceContentBlock
    | EmbeddedResourceContentBlock
)


def not_offered(method: str) -> Callable[..., CoroutineType[Any, Any, NoReturn]]:
    """A handler for an ACP method that is not offered: it answers "method not found"."""

    async def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        raise RequestError.method_not_found(method)

    return refuse


class PunieAcpAgent:
    """The ACP agent: initialize, session/new, session/prompt, session/cancel, session/close."""

    def __init__(
        self, tools: Sequence[ToolSpec], model: StreamingModel, options: AcpOptions | None = None
    ) -> None:
        self.tools = list(tools)
        self.model = model
        self.options = options or AcpOptions()
        self.sessions: dict[str, AcpSession] = {}
        self.model_lock = threading.Lock()
        self.client: Client | None = None

    def on_connect(self, conn: Client) -> None:
        """Keep the client connection for updates and permission requests."""
        self.client = conn

    async def initialize(
        self,
        protocol_version: int,
        client_capabilities: ClientCapabilities | None = None,
        client_info: Implementation | None = None,
        **kwargs: Any,
    ) -> InitializeResponse:
        """Agree on the protocol version and say what this agent can do."""
        return InitializeResponse(
            protocol_version=min(protocol_version, PROTOCOL_VERSION),
            agent_capabilities=AgentCapabilities(
                load_session=False, prompt_capabilities=PromptCapabilities(embedded_context=True)
            ),
            agent_info=Implementation(name="punie-tools", title="Punie", version="0.1.0"),
        )

    async def authenticate(self, method_id: str, **kwargs: Any) -> None:
        """No authentication: the model runs locally."""
        return None

    async def new_session(
        self,
        cwd: str,
        additional_directories: list[str] | None = None,
        mcp_servers: list[McpServer] | None = None,
        **kwargs: Any,
    ) -> NewSessionResponse:
        """Start a session on the workspace (``--workspace``, else the client's cwd)."""
        if self.client is None:
            raise RequestError.internal_error({"details": "no client connection"})
        root = self.options.workspace or Path(cwd)
        try:
            workspace = Workspace(root)
        except WorkspaceError as exc:
            raise RequestError.invalid_params({"cwd": str(exc)}) from None
        session_id = uuid.uuid4().hex
        link = Link(asyncio.get_running_loop(), self.client)
        self.sessions[session_id] = AcpSession(
            session_id, self.tools, workspace, self.model, self.model_lock, link, self.options
        )
        return NewSessionResponse(session_id=session_id)

    async def prompt(
        self, session_id: str, prompt: list[ContentBlock], **kwargs: Any
    ) -> PromptResponse:
        """Run the agent loop on the prompt; updates stream while it runs."""
        session = self._session(session_id)
        if session.busy:
            raise RequestError.invalid_request({"details": "a prompt is already running"})
        session.busy = True
        session.cancel.clear()
        try:
            reason = await in_thread(session.ask, prompt_text(prompt))
        finally:
            session.busy = False
        return PromptResponse(stop_reason=reason)

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        """Stop the running generation or tool of the session."""
        session = self.sessions.get(session_id)
        if session is not None:
            session.cancel.set()

    async def close_session(self, session_id: str, **kwargs: Any) -> CloseSessionResponse | None:
        """Stop the session's running turn, close its workspace and forget it."""
        session = self._session(session_id)
        session.cancel.set()
        session.workspace.close()
        del self.sessions[session_id]
        return None

    # The rest of the protocol is not offered: each answers as if it were absent.
    load_session = not_offered(AGENT_METHODS["session_load"])  # capabilities: load_session=False
    list_sessions = not_offered(AGENT_METHODS["session_list"])
    set_session_mode = not_offered(AGENT_METHODS["session_set_mode"])
    set_config_option = not_offered(AGENT_METHODS["session_set_config_option"])
    fork_session = not_offered(AGENT_METHODS["session_fork"])
    resume_session = not_offered(AGENT_METHODS["session_resume"])

    async def ext_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """No extension methods."""
        raise RequestError.method_not_found(f"_{method}")

    async def ext_notification(self, method: str, params: dict[str, Any]) -> None:
        """Extension notifications are ignored."""
        return None

    def _session(self, session_id: str) -> AcpSession:
        session = self.sessions.get(session_id)
        if session is None:
            raise RequestError.invalid_params({"sessionId": f"unknown session {session_id!r}"})
        return session

    def shutdown(self) -> None:
        """Cancel every running turn and close the workspaces (language servers)."""
        for session in self.sessions.values():
            session.cancel.set()
        for session in self.sessions.values():
            session.workspace.close()
        self.sessions.clear()


def prompt_text(blocks: Sequence[Any]) -> str:
    """The user's text from ACP content blocks (resources as their URI or embedded text)."""
    parts: list[str] = []
    for block in blocks:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource_link":
            parts.append(f"@{block.uri}")
        elif kind == "resource" and hasattr(block.resource, "text"):
            parts.append(f"{block.resource.uri}:\n{block.resource.text}")
    return "\n".join(parts)


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """Await ``fn(*args)`` run in a daemon thread (an exit never waits for it)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(value: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is None:
            future.set_result(value)
        else:
            future.set_exception(error)

    def work() -> None:
        value: Any = None
        error: BaseException | None = None
        try:
            value = fn(*args)
        except Exception as exc:
            error = exc
        except BaseException as exc:  # never hand KeyboardInterrupt to the event loop
            error = RuntimeError(f"stopped: {exc!r}")
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(settle, value, error)

    threading.Thread(target=work, daemon=True, name="punie-acp-turn").start()
    return await future
