"""The tool-choice decision of a chat: the user's request and the first tool the reply calls.

Tool choice is judged on the first call: the baseline classifier learns query -> first tool,
the probe asks the model for it, and balanced sampling groups examples by it. A chat whose
first assistant turn calls no tool (prose, a clarifying answer) decides ``NO_TOOL``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import attrs

from punie_tools.callsite import extract_calls
from punie_tools.codemode import parse_tool_call

NO_TOOL = "(none)"
"""The decision of a reply that calls no registered tool."""


@attrs.frozen
class Decision:
    """One tool-choice decision: the request the model sees and the tool it should call first."""

    query: str
    tool: str


def first_tool(reply: str, tool_names: Collection[str]) -> str:
    """The first registered tool a reply's Code Mode call uses, or ``NO_TOOL``."""
    call = parse_tool_call(reply)
    code = call.parameters.get("code") if call is not None else None
    sites = extract_calls(code, tool_names) if code else None
    return sites[0].tool if sites else NO_TOOL


def decision(messages: Sequence[Mapping[str, str]], tool_names: Collection[str]) -> Decision | None:
    """The first user request and the tool of the first assistant turn; None without either.

    Only chats whose first assistant turn answers the first user message directly count: a
    foundation chat that talks first and calls later is a different decision.
    """
    user = next((m for m in messages if m["role"] == "user"), None)
    reply = next((m for m in messages if m["role"] == "assistant"), None)
    if user is None or reply is None:
        return None
    if messages.index(reply) != messages.index(user) + 1:
        return None
    return Decision(user["content"], first_tool(reply["content"], tool_names))


def decisions(
    chats: Sequence[Sequence[Mapping[str, str]]], tool_names: Collection[str]
) -> list[Decision]:
    """The decisions of every chat that has one, in order."""
    found = (decision(messages, tool_names) for messages in chats)
    return [d for d in found if d is not None]
