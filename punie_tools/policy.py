"""Which tool calls change things: the rule shared by the agent front ends."""

from __future__ import annotations

from typing import Any

from punie_tools.spec import ToolSpec


def call_writes(spec: ToolSpec, args: dict[str, Any]) -> bool:
    """Whether this call may change files or run programs.

    A writing tool called with its ``preview_flag`` set to False only previews, so it does
    not count.
    """
    previews = spec.preview_flag is not None and args.get(spec.preview_flag) is False
    return spec.writes and not previews


def describe_call(spec: ToolSpec, args: dict[str, Any], width: int = 60) -> str:
    """``name(arg=value, ...)`` with long values cut, for permission prompts."""
    shown = []
    for key, value in args.items():
        text = repr(value)
        shown.append(f"{key}={text if len(text) <= width else text[: width - 3] + '...'}")
    return f"{spec.name}({', '.join(shown)})"
