"""Validation of one example, with the mechanical repairs it may make (each recorded).

Checking the calls yields the tools each code block calls; the accepted example carries them
and its category (a `ValidExample`), so later stages read them instead of parsing again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import attrs

from punie_datagen.codecheck import DIRECT_SUFFIX, calls_in_order, check_code
from punie_datagen.example import Example, Message, Rejection, ValidExample
from punie_tools.codemode import (
    format_tool_call,
    format_tool_response,
    parse_tool_call,
    parse_tool_response,
)
from punie_tools.spec import ToolSpec

TokenCounter = Callable[[Sequence[Mapping[str, str]]], int]
CALL_OPEN = "<tool_call>"
CALL_CLOSE = "</tool_call>"
ROLES = ("system", "user", "assistant")
RULES_VERSION = 3
"""Bumped when a rule or repair changes what a build keeps (part of the inputs hash): 2 drops
the announcement before a first call, 3 opens each code block with its first tool call
assigned to ``result`` (`punie_datagen.callstyle`)."""


class Invalid(Exception):
    """An example breaks a rule; the message says which message and what."""


@attrs.frozen
class Validator:
    """Checks examples against the registry's tools, system prompt and token budget."""

    tools: Mapping[str, ToolSpec]
    system_prompt: str
    max_seq_length: int = 2048
    count_tokens: TokenCounter | None = None
    type_check: Callable[[str], str | None] | None = None
    lengths: dict[str, int] = attrs.field(factory=dict, eq=False)

    def validate(self, example: Example) -> ValidExample | Rejection:
        """The example normalised and repaired, with the tools it calls and its category, or
        a Rejection (with the category) saying why it cannot be used."""
        blocks: list[tuple[str, ...]] = []
        try:
            messages, repairs = self._normalise(list(example.messages), blocks)
        except Invalid as exc:
            return self._rejection(example, "validate", str(exc))
        except Exception as exc:  # a validator bug must not stop the run; report it
            reason = f"validator error: {type(exc).__name__}: {exc}"
            return self._rejection(example, "validate", reason)
        fixed = ValidExample(
            example.id,
            example.source,
            tuple(messages),
            (*example.repairs, *repairs),
            tools=tuple(name for block in blocks for name in block),
            category=category(blocks, self.tools),
        )
        if self.count_tokens is not None:
            tokens = self.count_tokens([m.to_json() for m in messages])
            self.lengths[example.id] = tokens
            if tokens > self.max_seq_length:
                reason = f"too long: {tokens} tokens > max_seq_length {self.max_seq_length}"
                return Rejection(example.id, example.source, "tokens", reason, fixed.category)
        return fixed

    def _rejection(self, example: Example, stage: str, reason: str) -> Rejection:
        """A rejection with the category read from the example's raw code blocks (the checks
        stopped at the first problem)."""
        blocks = raw_calls(example, self.tools)
        return Rejection(example.id, example.source, stage, reason, category(blocks, self.tools))

    def _normalise(
        self, messages: list[Message], blocks: list[tuple[str, ...]]
    ) -> tuple[list[Message], list[str]]:
        if not messages:
            raise Invalid("no messages")
        for i, m in enumerate(messages, start=1):
            if m.role not in ROLES:
                raise Invalid(f"message {i}: unknown role {m.role!r}")
        if messages[0].role == "system":
            messages[0] = Message("system", self.system_prompt)
        else:
            messages.insert(0, Message("system", self.system_prompt))
        repairs: list[str] = []
        if deferred_call(messages):
            del messages[2:4]
            repairs.append("dropped the announcement before the first call")
        previous_call = False
        for i, m in enumerate(messages[1:], start=2):
            expected = "user" if i % 2 == 0 else "assistant"
            if m.role != expected:
                raise Invalid(f"message {i}: expected role {expected!r}, got {m.role!r}")
            if not m.content.strip():
                raise Invalid(f"message {i}: empty {m.role} message")
            if m.role == "assistant":
                messages[i - 1], previous_call = self._assistant(i, m, repairs, blocks)
            else:
                messages[i - 1] = _user(i, m, previous_call, repairs)
        if messages[-1].role != "assistant":
            raise Invalid(f"ends with a {messages[-1].role} message, not the assistant")
        if len(messages) < 3:
            raise Invalid("no user message and assistant reply")
        return messages, sorted(set(repairs), key=repairs.index)

    def _assistant(
        self, i: int, m: Message, repairs: list[str], blocks: list[tuple[str, ...]]
    ) -> tuple[Message, bool]:
        if parse_tool_response(m.content) is not None:
            raise Invalid(f"message {i}: the assistant writes a <tool_response>")
        count = m.content.count(CALL_OPEN)
        if count == 0:
            return m, False
        if count > 1:
            raise Invalid(f"message {i}: more than one tool call in one message")
        call = parse_tool_call(m.content)
        if call is None:
            raise Invalid(f"message {i}: tool call does not parse")
        if call.function != "execute_code":
            raise Invalid(f"message {i}: calls function {call.function!r}, not execute_code")
        if call.code is None or set(call.parameters) != {"code"}:
            raise Invalid(f"message {i}: execute_code needs exactly the parameter 'code'")
        close = m.content.rfind(CALL_CLOSE)
        if close >= 0 and m.content[close + len(CALL_CLOSE) :].strip():
            raise Invalid(f"message {i}: text after </tool_call>")
        checked = check_code(call.code, self.tools)
        if checked.error:
            raise Invalid(f"message {i}: {checked.error}")
        if self.type_check is not None:
            problem = self.type_check(checked.code)
            if problem:
                raise Invalid(f"message {i}: type check: {problem}")
        repairs.extend(checked.repairs)
        blocks.append(checked.calls)
        before = f"{call.text_before}\n\n" if call.text_before else ""
        if before + format_tool_call(call.code) != m.content:
            repairs.append("tool call tags normalised" if close >= 0 else "closed the tool call")
        return Message("assistant", before + format_tool_call(checked.code)), True


FILLER_WORDS = 6
"""A user turn this short between an announcement and the call only says "go ahead"."""


def deferred_call(messages: Sequence[Message]) -> bool:
    """Whether the first reply only announces a tool run ("I'll run the tests."), the user
    answers with a short go-ahead ("Show me the results."), and the next reply makes the call.

    The same requests are answered with the call right away elsewhere: two first replies for
    one request. A reply that asks something (a "?") is a real question and stays.
    """
    if len(messages) < 5 or [m.role for m in messages[2:5]] != ["assistant", "user", "assistant"]:
        return False
    reply, filler, call = messages[2:5]
    return (
        CALL_OPEN not in reply.content
        and "?" not in reply.content
        and "<tool_response>" not in filler.content
        and len(filler.content.split()) <= FILLER_WORDS
        and CALL_OPEN in call.content
    )


def raw_calls(example: Example, tools: Mapping[str, ToolSpec]) -> list[tuple[str, ...]]:
    """The tools each code block of an unvalidated example calls, in order (``<tool>_direct``
    counts as the tool); an accepted example carries its own as ``ValidExample.tools``."""
    names = {**{f"{n}{DIRECT_SUFFIX}": n for n in tools}, **{n: n for n in tools}}
    return [tuple(names[n] for n in calls_in_order(c, names)) for c in example.codes()]


def category(blocks: Sequence[Sequence[str]], tools: Mapping[str, ToolSpec]) -> str:
    """The category of the first tool called, given the tools each code block calls: ``chat``
    with no code block, ``unknown`` when no block calls a registered tool."""
    if not blocks:
        return "chat"
    first = next((name for block in blocks for name in block), None)
    return tools[first].category if first is not None else "unknown"


def _user(i: int, m: Message, previous_call: bool, repairs: list[str]) -> Message:
    output = parse_tool_response(m.content)
    if output is None:
        if "<tool_response>" in m.content:
            raise Invalid(f"message {i}: malformed <tool_response>")
        if previous_call:
            raise Invalid(f"message {i}: a tool call must be answered by a <tool_response>")
        return m
    if not previous_call:
        raise Invalid(f"message {i}: <tool_response> without a tool call before it")
    canonical = format_tool_response(output)
    if canonical != m.content:
        repairs.append("tool response whitespace normalised")
    return Message("user", canonical)
