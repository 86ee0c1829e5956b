"""``python -m punie_tools acp``: the agent over ACP on standard input and output."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from acp import run_agent
from acp.core import DEFAULT_STDIO_BUFFER_LIMIT_BYTES

from punie_tools.acp_agent import AcpOptions, PunieAcpAgent, StreamingModel, TokenSink
from punie_tools.agent import AgentLimits, Message
from punie_tools.registry import Registry, RegistryError
from punie_tools.sandbox import RunLimits
from punie_tools.workspace import Workspace, WorkspaceError


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


def streaming_chat_model(model: str | None, adapter: str | None, max_tokens: int) -> StreamingModel:
    """The model the terminal agent uses (``punie_train.chat_model``), tokens to a sink."""
    from punie_train.chat_model import chat_model

    sink: list[TokenSink] = []

    def forward(token: str) -> None:
        if sink:
            sink[-1](token)

    fn = chat_model(model=model, adapter=adapter, max_tokens=max_tokens, on_token=forward)

    def call(messages: Sequence[Message], on_token: TokenSink) -> str:
        sink.append(on_token)
        try:
            return fn(messages)
        finally:
            sink.pop()

    return call


def cmd_acp(args: argparse.Namespace) -> int:
    """Load the model, then serve the agent until the editor disconnects."""
    from punie_train.blas import ensure_fast_blas

    ensure_fast_blas()  # before anything imports mlx
    try:
        if args.workspace is not None:
            Workspace(args.workspace).close()
        registry = Registry.load()
    except (WorkspaceError, RegistryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for err in registry.errors:
        print(f"warning: {err}", file=sys.stderr)
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
        model = streaming_chat_model(args.model, args.adapter, args.max_tokens)
    except Exception as exc:  # a bad model path is a user mistake: one clear line
        print(f"error: cannot load the model: {exc}", file=sys.stderr)
        return 2
    return serve(PunieAcpAgent(registry.tools(), model, options), wire)
