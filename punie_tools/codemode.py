"""Code Mode: the wire format of a model's tool call, and running its code.

A call looks like ``<tool_call><function=execute_code><parameter=code>\\n...\\n</parameter>
</function></tool_call>``; both whitespace variants of the foundation data parse, and a
missing close tag is tolerated.
"""

from __future__ import annotations

import re

import attrs

from punie_tools.sandbox import RunLimits, RunResult, Sandbox, run_code

__all__ = [
    "RunLimits",
    "RunResult",
    "Sandbox",
    "ToolCall",
    "format_tool_call",
    "format_tool_response",
    "parse_tool_call",
    "parse_tool_response",
    "run_code",
]

_CALL_OPEN = "<tool_call>"
_FUNCTION = re.compile(r"<function=([^>\s]*)>")
_PARAM = re.compile(r"<parameter=([^>\s]*)>")
_PARAM_CLOSE = "</parameter>"


@attrs.frozen
class ToolCall:
    """A parsed tool call: the function named and its parameters."""

    function: str
    parameters: dict[str, str] = attrs.field(factory=dict, eq=False)
    text_before: str = ""

    @property
    def code(self) -> str | None:
        """The ``code`` parameter of an ``execute_code`` call (None otherwise)."""
        return self.parameters.get("code")


def format_tool_call(code: str, *, compact: bool = False) -> str:
    """Wrap code as an ``execute_code`` tool call (``compact`` = the foundation's variant B)."""
    if compact:
        return (
            f"<tool_call><function=execute_code><parameter=code>\n{code}\n"
            "</parameter></function></tool_call>"
        )
    return (
        f"<tool_call><function=execute_code>\n<parameter=code>\n{code}\n"
        "</parameter>\n</function></tool_call>"
    )


def parse_tool_call(reply: str) -> ToolCall | None:
    """Parse the first tool call in a model reply; None when there is no call.

    Never raises: malformed output is "no call". Parameter bodies lose exactly one
    newline on each side, so ``parse_tool_call(format_tool_call(c)).code == c``.
    """
    if not isinstance(reply, str):
        return None
    start = reply.find(_CALL_OPEN)
    if start < 0:
        return None
    body = reply[start + len(_CALL_OPEN) :]
    fn = _FUNCTION.match(body.lstrip())
    if fn is None:
        return None
    body = body.lstrip()[fn.end() :]
    params: dict[str, str] = {}
    stripped = body.lstrip()
    match = _PARAM.match(stripped)
    if match is not None:
        # execute_code has one parameter: its body ends at the last </parameter>, so code
        # may itself contain the closing tag's text.
        rest = stripped[match.end() :]
        close = rest.rfind(_PARAM_CLOSE)
        value = _strip_trailing_tags(rest) if close < 0 else rest[:close]
        params[match.group(1)] = _strip_one_newline(value)
    return ToolCall(function=fn.group(1), parameters=params, text_before=reply[:start].strip())


def _strip_trailing_tags(value: str) -> str:
    changed = True
    while changed:
        changed = False
        for tag in ("</tool_call>", "</function>"):
            trimmed = value.rstrip()
            if trimmed.endswith(tag):
                value = trimmed[: -len(tag)]
                changed = True
    if value.endswith("\n\n"):
        value = value[:-1]
    return value


def _strip_one_newline(value: str) -> str:
    if value.startswith("\n"):
        value = value[1:]
    if value.endswith("\n"):
        value = value[:-1]
    return value


def format_tool_response(output: str) -> str:
    """The user-turn content carrying a tool's output back to the model."""
    return f"<tool_response>\n{output}\n</tool_response>"


_RESPONSE = re.compile(r"^\s*<tool_response>\n?(.*?)\n?</tool_response>\s*$", re.DOTALL)


def parse_tool_response(content: str) -> str | None:
    """The output inside a ``<tool_response>`` turn, or None when it is not one."""
    match = _RESPONSE.match(content) if isinstance(content, str) else None
    return match.group(1) if match else None
