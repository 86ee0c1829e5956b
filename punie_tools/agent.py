"""The agent loop: model text in, Code Mode calls run in the sandbox, transcript out.

Embed it with any model callable (a function from chat messages to reply text), so agent code
and tests drive it without a real model::

    agent = Agent(registry, Workspace("."), model=my_model)
    transcript = agent.ask("Which tests fail?")
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from punie_tools.codemode import format_tool_response, parse_tool_call
from punie_tools.prompt import system_prompt
from punie_tools.sandbox import RunLimits, RunResult, Sandbox
from punie_tools.spec import ToolSpec
from punie_tools.workspace import Workspace

Message = dict[str, str]
ModelFn = Callable[[Sequence[Message]], str]
Guard = Callable[[ToolSpec, dict[str, Any]], str | None]


@attrs.frozen
class AgentLimits:
    """Limits of one ``ask``: model calls per user turn, and each Code Mode run's limits."""

    max_steps: int = 6
    run: RunLimits = attrs.field(factory=RunLimits)


@attrs.frozen
class Step:
    """One model reply and, if it called a tool, what the run produced."""

    reply: str
    result: RunResult | None = None


@attrs.define
class Transcript:
    """The messages of a session in the dataset's chat format, and the steps of the last ask."""

    messages: list[Message] = attrs.field(factory=list)
    steps: list[Step] = attrs.field(factory=list)
    stopped: str = ""

    @property
    def answer(self) -> str:
        """The last assistant message."""
        for m in reversed(self.messages):
            if m["role"] == "assistant":
                return m["content"]
        return ""

    def to_json(self) -> str:
        """One JSONL line: ``{"messages": [...]}`` as in the training data."""
        return json.dumps({"messages": self.messages}, ensure_ascii=False)


class AgentEvents:
    """Callbacks for showing a session; the default shows nothing."""

    def tool_started(self, code: str) -> None:
        """A tool call is about to run."""

    def tool_finished(self, result: RunResult) -> None:
        """A tool call finished; ``result.reply`` goes back to the model."""

    def answered(self, text: str) -> None:
        """The model answered in plain text."""


class Agent:
    """A conversation with a model that calls the registry's tools in a workspace."""

    def __init__(
        self,
        tools: Sequence[ToolSpec],
        workspace: Workspace,
        model: ModelFn,
        *,
        limits: AgentLimits | None = None,
        guard: Guard | None = None,
        events: AgentEvents | None = None,
        transcript_path: Path | None = None,
    ) -> None:
        self.tools = list(tools)
        self.workspace = workspace
        self.model = model
        self.limits = limits or AgentLimits()
        self.events = events or AgentEvents()
        self.sandbox = Sandbox(self.tools, workspace, self.limits.run, guard=guard)
        self.transcript = Transcript([{"role": "system", "content": system_prompt(self.tools)}])
        self.transcript_path = transcript_path

    def ask(self, query: str) -> Transcript:
        """Send a user turn and loop until the model answers in text or the step limit hits."""
        self.transcript.messages.append({"role": "user", "content": query})
        self.transcript.steps = []
        self.transcript.stopped = ""
        for _ in range(self.limits.max_steps):
            try:
                reply = self.model(list(self.transcript.messages))
            except KeyboardInterrupt:
                # Keep roles alternating so the transcript stays valid training data.
                self.transcript.messages.append({"role": "assistant", "content": "(interrupted)"})
                self.transcript.stopped = "interrupted"
                break
            self.transcript.messages.append({"role": "assistant", "content": reply})
            call = parse_tool_call(reply)
            if call is None:
                self.transcript.steps.append(Step(reply))
                self.transcript.stopped = "answer"
                self.events.answered(reply)
                break
            result = self._run(call.function, call.code)
            self.transcript.steps.append(Step(reply, result))
            self.transcript.messages.append(
                {"role": "user", "content": format_tool_response(result.reply)}
            )
        else:
            self.transcript.stopped = "step limit"
        self.save()
        return self.transcript

    def _run(self, function: str, code: str | None) -> RunResult:
        if function != "execute_code" or code is None:
            return RunResult(
                output="",
                error=f"unknown function {function!r}: call execute_code with a code parameter",
            )
        self.events.tool_started(code)
        result = run_interruptibly(self.sandbox, code)
        self.events.tool_finished(result)
        return result

    def save(self) -> None:
        """Write the transcript atomically (one JSONL line) if a path was given."""
        if self.transcript_path is None:
            return
        path = self.transcript_path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(self.transcript.to_json() + "\n")
        os.replace(tmp, path)


def run_interruptibly(sandbox: Sandbox, code: str) -> RunResult:
    """Run code in a worker thread so Ctrl-C in the main thread stops waiting for it.

    The sandbox's own time limit ends the abandoned run.
    """
    box: list[RunResult] = []
    worker = threading.Thread(target=lambda: box.append(sandbox.run(code)), daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
    except KeyboardInterrupt:
        return RunResult(output="", error="interrupted by the user (Ctrl-C)")
    return box[0]
