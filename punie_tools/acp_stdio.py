"""``python -m punie_tools acp``: the agent over ACP on standard input and output."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path

from acp import run_agent
from acp.core import DEFAULT_STDIO_BUFFER_LIMIT_BYTES

from punie_tools.acp_agent import PunieAcpAgent
from punie_tools.acp_session import AcpOptions, StreamingModel, TokenSink
from punie_tools.agent import AgentLimits, Message
from punie_tools.cli_common import open_tools
from punie_tools.sandbox import RunLimits


def claim_stdio() -> tuple[int, int]:
    """Private copies of stdin and stdout for the protocol.

    Afterwards fd 0 reads the null device and fd 1 writes to stderr, so stray prints and
    child programs never touch the wire.
    """
    sys.stdout.flush()
    wire_in, wire_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return wire_in, wire_out


async def serve_fds(agent: PunieAcpAgent, wire_in: int, wire_out: int) -> None:
    """Serve ACP on two file descriptors until the client closes its end."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=DEFAULT_STDIO_BUFFER_LIMIT_BYTES)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(wire_in, "rb", buffering=0)
    )
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(wire_out, "wb", buffering=0)
    )
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    try:
        await run_agent(agent, input_stream=writer, output_stream=reader)
    finally:
        agent.shutdown()


def serve(agent: PunieAcpAgent, wire: tuple[int, int]) -> int:
    """Serve ACP on the claimed descriptors (``claim_stdio``); SIGTERM ends it cleanly."""
    signal.signal(signal.SIGTERM, _stop)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_fds(agent, *wire))
    agent.shutdown()
    return 0


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


ReplyFn = Callable[[Sequence[Message]], str]


class ModelThread:
    """A streaming model whose loading and every generation run on one thread.

    mlx keeps its streams per thread, so the model must stay on the thread that loaded it;
    prompts from any thread queue here. ``load`` gets the token callback and returns the
    reply function.
    """

    def __init__(self, load: Callable[[TokenSink], ReplyFn]) -> None:
        self._jobs: queue.SimpleQueue[tuple[Sequence[Message], TokenSink, Future[str]]]
        self._jobs = queue.SimpleQueue()
        ready: Future[None] = Future()
        threading.Thread(target=self._main, args=(load, ready), daemon=True, name="model").start()
        ready.result()  # a loading error is raised here

    def _main(self, load: Callable[[TokenSink], ReplyFn], ready: Future[None]) -> None:
        sinks: list[TokenSink] = []

        def forward(token: str) -> None:
            if sinks:
                sinks[-1](token)

        try:
            reply = load(forward)
        except BaseException as exc:
            ready.set_exception(exc)
            return
        ready.set_result(None)
        while True:
            messages, on_token, done = self._jobs.get()
            sinks.append(on_token)
            try:
                done.set_result(reply(messages))
            except BaseException as exc:  # GenerationCancelled goes back to the caller
                done.set_exception(exc)
            finally:
                sinks.pop()

    def __call__(self, messages: Sequence[Message], on_token: TokenSink) -> str:
        """The reply to ``messages``, its pieces sent to ``on_token`` as they are decoded."""
        done: Future[str] = Future()
        self._jobs.put((messages, on_token, done))
        return done.result()


def streaming_chat_model(
    model: str | None, adapter: str | None, max_tokens: int, engine: str = "auto"
) -> StreamingModel:
    """The model the terminal agent uses (``punie_runtime.chat_model``) on its own thread.

    Which engine answers goes to stderr (stdout is the ACP wire).
    """
    from punie_runtime.chat_model import chat_model

    return ModelThread(
        lambda on_token: chat_model(
            model=model,
            adapter=adapter,
            max_tokens=max_tokens,
            on_token=on_token,
            engine=engine,
            on_engine=lambda text: print(f"engine: {text}", file=sys.stderr),
        )
    )


def cmd_acp(args: argparse.Namespace) -> int:
    """Load the model, then serve the agent until the editor disconnects."""
    from punie_runtime.blas import ensure_fast_blas

    ensure_fast_blas()  # before anything imports mlx
    opened = open_tools(args.workspace)
    if opened is None:
        return 2
    workspace, registry = opened
    if workspace is not None:  # only checked here: each session opens its own
        workspace.close()
    if args.adapter and args.adapter.lower() != "none" and not Path(args.adapter).is_dir():
        print(f"error: adapter {args.adapter} is not a directory", file=sys.stderr)
        return 2
    options = AcpOptions(
        workspace=Path(args.workspace) if args.workspace else None,
        limits=AgentLimits(max_steps=args.max_steps, run=RunLimits(seconds=args.timeout)),
        read_only=args.read_only,
        transcripts=args.transcripts,
    )
    wire = claim_stdio()  # model loading may print: keep it off the wire
    try:
        model = streaming_chat_model(args.model, args.adapter, args.max_tokens, args.engine)
    except Exception as exc:  # a bad model path is a user mistake: one clear line
        print(f"error: cannot load the model: {exc}", file=sys.stderr)
        return 2
    return serve(PunieAcpAgent(registry.tools(), model, options), wire)
