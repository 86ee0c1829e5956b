"""One ACP session: an ``Agent`` whose text, tool runs and permission checks go to the client.

`AcpSession` runs prompts in a worker thread and talks to the client through `Link` (the
connection, callable from threads); `SessionEvents` reports each Code Mode run as a tool call.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import attrs
from acp import (
    start_tool_call,
    text_block,
    tool_content,
    update_agent_message_text,
    update_tool_call,
)
from acp.interfaces import Client
from acp.schema import (
    AllowedOutcome,
    PermissionOption,
    RequestPermissionResponse,
    StopReason,
    ToolCallUpdate,
)

from punie_tools.agent import Agent, AgentEvents, AgentLimits, Message
from punie_tools.cancel import CANCELLED, CancellableSandbox, GenerationCancelled
from punie_tools.policy import call_writes, describe_call
from punie_tools.reply_stream import ReplyStream
from punie_tools.results import to_json
from punie_tools.sandbox import RunResult
from punie_tools.spec import ToolSpec
from punie_tools.workspace import Workspace

T = TypeVar("T")
TokenSink = Callable[[str], None]
StreamingModel = Callable[[Sequence[Message], TokenSink], str]
"""A model that streams its reply's text pieces to the sink and returns the whole reply."""

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
