"""``python -m punie_tools agent``: an interactive agent on your project, in the terminal."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable, Sequence
from typing import Any

from punie_tools.agent import Agent, AgentEvents, AgentLimits, Message, ModelFn
from punie_tools.cli_common import (
    add_model_options,
    add_transcripts_option,
    add_turn_options,
    open_tools,
)
from punie_tools.policy import call_writes
from punie_tools.sandbox import RunResult
from punie_tools.spec import ToolSpec


def add_agent_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``agent`` subcommand."""
    p = sub.add_parser(
        "agent",
        help="chat with the model; it calls the tools on your workspace",
        description=(
            "Interactive coding agent: each turn goes to the model with the registry's system "
            "prompt; its Code Mode calls run in the sandbox on the workspace and their output "
            "goes back to it, until it answers in plain text. Ctrl-C stops the current "
            "generation or tool and keeps the session; Ctrl-D or 'exit' ends it."
        ),
    )
    p.add_argument("--workspace", required=True, help="the project directory the tools work in")
    add_model_options(p)
    p.add_argument("--once", metavar="QUERY", help="ask one question, print the answer, exit")
    p.add_argument(
        "--yes", action="store_true", help="run writing tools (write_file, ...) without asking"
    )
    add_turn_options(p, turn="user turn")
    add_transcripts_option(p, kind="JSONL in the dataset format")
    p.set_defaults(func=cmd_agent)


def make_guard(
    *, read_only: bool, yes: bool, ask: Callable[[str], bool] | None
) -> Callable[[ToolSpec, dict[str, Any]], str | None]:
    """The confirmation policy for writing tools: refuse, allow, or ask the user."""

    def guard(spec: ToolSpec, args: dict[str, Any]) -> str | None:
        if not call_writes(spec, args):  # a reading tool, or a writing one asked to preview
            return None
        if read_only:
            return f"{spec.name} is refused: the agent runs in --read-only mode"
        if yes:
            return None
        shown = ", ".join(f"{k}={_short(v)}" for k, v in args.items())
        if ask is None:
            return f"{spec.name} needs confirmation: run with --yes to allow writing tools"
        if ask(f"Allow {spec.name}({shown})?"):
            return None
        return f"{spec.name} was refused by the user"

    return guard


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class ConsoleEvents(AgentEvents):
    """Shows tool code and output in framed blocks."""

    def __init__(self, console: Any) -> None:
        self.console = console

    def tool_started(self, code: str) -> None:
        """Show the code about to run."""
        from rich.panel import Panel
        from rich.syntax import Syntax

        self.console.print(Panel(Syntax(code, "python"), title="execute_code", expand=False))

    def tool_finished(self, result: RunResult) -> None:
        """Show the tool output framed."""
        from rich.panel import Panel
        from rich.text import Text

        style = "green" if result.ok else "red"
        title = f"tool output ({result.seconds:.1f}s)"
        self.console.print(Panel(Text(result.reply), title=title, border_style=style))


def cmd_agent(args: argparse.Namespace) -> int:
    """Run the agent interactively or once."""
    from rich.console import Console

    from punie_runtime.blas import ensure_fast_blas

    state = ensure_fast_blas()  # before anything imports mlx
    console = Console(stderr=False)
    console.print(f"[dim]BLAS: {state.kind} ({state.note})[/]")
    opened = open_tools(str(args.workspace))
    if opened is None:
        return 2
    workspace, registry = opened
    interactive = args.once is None
    ask = (
        (lambda q: console.input(f"[bold yellow]{q} [y/N][/] ").strip().lower() == "y")
        if (interactive and sys.stdin.isatty())
        else None
    )
    guard = make_guard(read_only=args.read_only, yes=args.yes, ask=ask)
    try:
        model = load_chat_model(args.model, args.adapter, args.max_tokens, console, args.engine)
    except Exception as exc:  # a bad model path is a user mistake: one clear line
        print(f"error: cannot load the model: {exc}", file=sys.stderr)
        return 2
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    agent = Agent(
        registry.tools(),
        workspace,
        model,
        limits=AgentLimits(max_steps=args.max_steps),
        guard=guard,
        events=ConsoleEvents(console),
        transcript_path=args.transcripts / f"session-{stamp}.jsonl",
    )
    with workspace:
        if not interactive:
            transcript = agent.ask(args.once)
            if transcript.stopped == "step limit":
                console.print("[red]stopped: step limit reached[/]")
            console.print(f"[dim]transcript: {agent.transcript_path}[/]")
            return 0
        console.print(f"[bold]punie agent[/] on {workspace.root} — Ctrl-D or 'exit' to quit")
        while True:
            try:
                query = console.input("[bold cyan]you> [/]").strip()
            except (EOFError, KeyboardInterrupt):
                break
            if query in {"exit", "quit"}:
                break
            if not query:
                continue
            try:
                agent.ask(query)
            except KeyboardInterrupt:
                console.print("[yellow]interrupted; the session continues[/]")
                agent.save()
        console.print(f"[dim]transcript: {agent.transcript_path}[/]")
    return 0


def load_chat_model(
    model: str | None, adapter: str | None, max_tokens: int, console: Any, engine: str = "auto"
) -> ModelFn:
    """A model callable streaming its tokens to the console (punie_runtime does the work)."""
    from punie_runtime.chat_model import chat_model

    def stream(token: str) -> None:
        console.print(token, end="", markup=False, highlight=False)

    fn = chat_model(
        model=model,
        adapter=adapter,
        max_tokens=max_tokens,
        on_token=stream,
        engine=engine,
        on_engine=lambda text: console.print(f"[dim]engine: {text}[/]"),
    )

    def call(messages: Sequence[Message]) -> str:
        console.print("[bold magenta]punie> [/]", end="")
        try:
            return fn(messages)
        finally:
            console.print()

    return call
