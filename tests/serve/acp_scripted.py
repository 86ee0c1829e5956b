"""An ACP agent process with a scripted model: ``python -m tests.serve.acp_scripted WORKSPACE``.

The replies depend on the user's request; each is streamed in small pieces, slowly enough
for a client to cancel in the middle.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from punie_tools import Registry
from punie_tools.acp_agent import PunieAcpAgent
from punie_tools.acp_session import AcpOptions, TokenSink
from punie_tools.acp_stdio import claim_stdio, serve
from punie_tools.agent import AgentLimits, Message
from punie_tools.codemode import format_tool_call
from punie_tools.sandbox import RunLimits

NOTE = "hello from acp"
SCRIPTS = {
    "write a note": [
        "I will write it." + format_tool_call(f'print(write_file("notes.txt", "{NOTE}"))'),
        "notes.txt now says hello.",
    ],
    "talk slowly": ["word " * 2000],
    "spin": [format_tool_call("n = 0\nwhile True:\n    n += 1")],
    "hello": ["Hello! Still here."],
}
PAUSE = {"talk slowly": 0.02}


def scripted(messages: Sequence[Message], on_token: TokenSink) -> str:
    """The next scripted reply to the last request, streamed 8 characters at a time."""
    last = max(
        i
        for i, m in enumerate(messages)
        if m["role"] == "user" and not m["content"].startswith("<tool_response>")
    )
    query = messages[last]["content"]
    step = sum(m["role"] == "assistant" for m in messages[last:])
    reply = SCRIPTS[query][step]
    for start in range(0, len(reply), 8):
        on_token(reply[start : start + 8])
        time.sleep(PAUSE.get(query, 0.001))
    return reply


def main() -> int:
    """Serve the scripted agent on the workspace given as the only argument."""
    options = AcpOptions(
        workspace=Path(sys.argv[1]),
        limits=AgentLimits(max_steps=4, run=RunLimits(seconds=5)),
    )
    agent = PunieAcpAgent(Registry.load().tools(), scripted, options)
    return serve(agent, claim_stdio())


if __name__ == "__main__":
    sys.exit(main())
