"""The agent behind ACP (Agent Client Protocol): sessions, prompts, streamed replies.

Each session is an ``Agent`` on a workspace. A prompt runs the agent loop in a worker
thread: model text streams to the client as message chunks (Code Mode call markup hidden),
each Code Mode run is reported as a tool call with its output, writing tools ask the client
for permission, and ``session/cancel`` stops the generation or the running tool.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
import uuid
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Future
from pathlib import Path
from types import CoroutineType
from typing import Any, NoReturn, TypeVar

import attrs
from acp import (
    PROTOCOL_VERSION,
    InitializeResponse,
    NewSessionResponse,
    PromptResponse,
    RequestError,
    start_tool_call,
    text_block,
    tool_content,
    update_agent_message_text,
    update_tool_call,
)
from acp.interfaces import Client
from acp.meta import AGENT_METHODS
from acp.schema import (
    AcpMcpServer,
    AgentCapabilities,
    AllowedOutcome,
    AudioContentBlock,
    ClientCapabilities,
    CloseSessionResponse,
    EmbeddedResourceContentBlock,
    HttpMcpServer,
    ImageContentBlock,
    Implementation,
    McpServerStdio,
    PermissionOption,
    PromptCapabilities,
    RequestPermissionResponse,
    ResourceContentBlock,
    SseMcpServer,
    StopReason,
    TextContentBlock,
    ToolCallUpdate,
)

from punie_tools.agent import Agent, AgentEvents, AgentLimits, Message
from punie_tools.cancel import CANCELLED, CancellableSandbox, GenerationCancelled
from punie_tools.policy import call_writes, describe_call
from punie_tools.reply_stream import ReplyStream
from punie_tools.results import to_json
from punie_tools.sandbox import RunResult
from punie_tools.spec import ToolSpec
from punie_tools.workspace import Workspace, WorkspaceError

T = TypeVar("T")
TokenSink = Callable[[str], None]
StreamingModel = Callable[[Sequence[Message], TokenSink], str]
"""A model that streams its reply's text pieces to the sink and returns the whole reply."""
McpServer = HttpMcpServer | SseMcpServer | AcpMcpServer | McpServerStdio
ContentBlock = (
    TextContentBlock
    | ImageContentBlock
    | AudioContentBlock
    | ResourceContentBlock
    | EmbeddedResourceContentBlock
)

TOOL_TITLE = "execute_code"
PERMISSION_OPTIONS = [
    PermissionOption(option_id="allow_once", name="Allow", kind="allow_once"),
    PermissionOption(option_id="allow_always", name="Always allow this tool", kind="allow_always"),
    PermissionOption(option_id="reject_once", name="Reject", kind="reject_once"),
]


@attrs.frozen
class AcpOptions:
    """How sessions run: their workspace, limits, write policy and transcripts."""

    workspace: Path | None = None  # None: each session's cwd
    limits: AgentLimits = attrs.field(factory=AgentLimits)
    read_only: bool = False
    transcripts: Path | None = None


class Link:
    """The client connection, callable from worker threads."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: Client) -> None:
        self.loop = loop
        self.client = client

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        """Schedule a coroutine on the connection's loop."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)


class AcpSession:
    """One ACP session: an ``Agent`` whose events and permission checks go to the client."""

    def __init__(
        self,
        session_id: str,
        tools: Sequence[ToolSpec],
        workspace: Workspace,
        model: StreamingModel,
        model_lock: threading.Lock,
        link: Link,
        options: AcpOptions,
    ) -> None:
        self.id = session_id
        self.workspace = workspace
        self.model = model
        self.model_lock = model_lock
        self.link = link
        self.options = options
        self.cancel = threading.Event()
        self.busy = False
        self.always_allowed: set[str] = set()
        self.tool_call_id = ""
        self.runs = 0
        self._spoke = False
        self.new_paragraph = False  # a tool ran since the model last spoke
        transcript = None
        if options.transcripts is not None:
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            transcript = options.transcripts / f"session-{stamp}-{session_id[:8]}.jsonl"
        self.agent = Agent(
            tools,
            workspace,
            self.reply,
            limits=options.limits,
            guard=self.guard,
            events=SessionEvents(self),
            transcript_path=transcript,
        )
        self.agent.sandbox = CancellableSandbox(
            tools, workspace, options.limits.run, guard=self.guard, cancel=self.cancel
        )

    def send(self, update: Any) -> None:
        """Send a session update and wait until it is written (keeps updates in order)."""
        notify = self.link.client.session_update(session_id=self.id, update=update)
        self.link.submit(notify).result()

    def ask(self, text: str) -> StopReason:
        """Run one prompt through the agent loop; the ACP stop reason."""
        self._spoke = False
        transcript = self.agent.ask(text)
        if self.cancel.is_set() or transcript.stopped == "interrupted":
            return "cancelled"
        return "max_turn_requests" if transcript.stopped == "step limit" else "end_turn"

    def reply(self, messages: Sequence[Message]) -> str:
        """The model callable of the agent: streams text to the client, stops on cancel."""
        if self.cancel.is_set():
            raise GenerationCancelled
        stream = ReplyStream(self._say)

        def on_token(piece: str) -> None:
            if self.cancel.is_set():
                raise GenerationCancelled
            stream.feed(piece)

        with self.model_lock:
            text = self.model(messages, on_token)
        stream.finish(text)
        return text

    def _say(self, text: str) -> None:
        if not self._spoke:
            text = text.lstrip("\n")
        elif self.new_paragraph:
            text = "\n\n" + text.lstrip("\n")
        self._spoke = True
        self.new_paragraph = False
        self.send(update_agent_message_text(text))

    def guard(self, spec: ToolSpec, args: dict[str, Any]) -> str | None:
        """Refuse calls after a cancel; ask the client before a writing call."""
        if self.cancel.is_set():
            return CANCELLED
        if not call_writes(spec, args):
            return None
        if self.options.read_only:
            return f"{spec.name} is refused: the agent runs in --read-only mode"
        if spec.name in self.always_allowed:
            return None
        request = self.link.client.request_permission(
            session_id=self.id,
            tool_call=ToolCallUpdate(
                tool_call_id=self.tool_call_id,
                title=describe_call(spec, args),
                status="pending",
                raw_input={"tool": spec.name, "arguments": to_json(args)},
            ),
            options=PERMISSION_OPTIONS,
        )
        pending = self.link.submit(request)
        while True:
            try:
                response: RequestPermissionResponse = pending.result(timeout=0.05)
                break
            except TimeoutError:
                if self.cancel.is_set():
                    pending.cancel()
                    return CANCELLED
            except Exception as exc:
                return f"{spec.name} was not run: the permission request failed ({exc})"
        outcome = response.outcome
        if isinstance(outcome, AllowedOutcome) and outcome.option_id.startswith("allow"):
            if outcome.option_id == "allow_always":
                self.always_allowed.add(spec.name)
            return None
        if isinstance(outcome, AllowedOutcome):
            return f"{spec.name} was refused by the user"
        return f"{spec.name} was not run: the permission request was cancelled"


class SessionEvents(AgentEvents):
    """Reports each Code Mode run to the client as a tool call with its output."""

    def __init__(self, session: AcpSession) -> None:
        self.session = session

    def tool_started(self, code: str) -> None:
        """Announce the run and its code."""
        s = self.session
        s.runs += 1
        s.tool_call_id = f"run-{s.runs}"
        s.send(
            start_tool_call(
                s.tool_call_id,
                TOOL_TITLE,
                kind="execute",
                status="in_progress",
                content=[tool_content(text_block(f"```python\n{code}\n```"))],
                raw_input={"code": code},
            )
        )

    def tool_finished(self, result: RunResult) -> None:
        """Report the run's output (what goes back to the model)."""
        s = self.session
        s.send(
            update_tool_call(
                s.tool_call_id,
                title=TOOL_TITLE,
                status="completed" if result.ok else "failed",
                content=[tool_content(text_block(result.reply))],
                raw_output={
                    "output": result.output,
                    "error": result.error,
                    "tool_calls": list(result.tool_calls),
                },
            )
        )
        s.new_paragraph = True


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
