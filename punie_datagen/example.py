"""The data that flows through datagen: messages, examples (raw and validated), rejections."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping

import attrs

from punie_tools.codemode import parse_tool_call, parse_tool_response

SOURCES = ("foundation", "generated", "extra")


@attrs.frozen
class Message:
    """One chat message in mlx-lm's chat format."""

    role: str
    content: str

    def to_json(self) -> dict[str, str]:
        """The message as a JSON object."""
        return {"role": self.role, "content": self.content}


@attrs.frozen
class Example:
    """A training conversation, where it came from and the repairs made to it."""

    id: str
    source: str
    messages: tuple[Message, ...] = attrs.field(converter=tuple)
    repairs: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    def to_json_line(self) -> str:
        """The JSONL line written to the dataset (keys sorted, no trailing newline)."""
        data = {"messages": [m.to_json() for m in self.messages]}
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    def queries(self) -> list[str]:
        """The user's own messages (tool responses excluded)."""
        return [
            m.content
            for m in self.messages
            if m.role == "user" and parse_tool_response(m.content) is None
        ]

    def codes(self) -> list[str]:
        """The code of every tool call in the assistant messages."""
        return list(_codes(self.messages))

    def tool_responses(self) -> list[str]:
        """The text inside every ``<tool_response>`` turn."""
        found = (parse_tool_response(m.content) for m in self.messages if m.role == "user")
        return [r for r in found if r is not None]


@attrs.frozen
class ValidExample(Example):
    """An example validation accepted, with what it derived while checking the calls.

    ``tools``: the registered tools its code calls, in order (repeats kept); ``category``:
    the first tool's category, ``chat`` when it makes no call.
    """

    tools: tuple[str, ...] = attrs.field(kw_only=True, converter=tuple)
    category: str = attrs.field(kw_only=True)


def _codes(messages: Iterable[Message]) -> Iterator[str]:
    for m in messages:
        if m.role == "assistant":
            call = parse_tool_call(m.content)
            if call is not None and call.code is not None:
                yield call.code


def messages_from_json(raw: object) -> tuple[Message, ...]:
    """Messages from a decoded ``{"messages": [...]}`` object; ValueError says what is wrong."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"expected a JSON object, got {type(raw).__name__}")
    if set(raw) != {"messages"}:
        raise ValueError(f"expected exactly the key 'messages', got {sorted(raw)}")
    items = raw["messages"]
    if not isinstance(items, list):
        raise ValueError("'messages' must be a list")
    out = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, Mapping) or set(item) != {"role", "content"}:
            keys = sorted(item) if isinstance(item, Mapping) else type(item).__name__
            raise ValueError(f"message {i} must have exactly 'role' and 'content', got {keys}")
        if not isinstance(item["role"], str) or not isinstance(item["content"], str):
            raise ValueError(f"message {i}: 'role' and 'content' must be strings")
        out.append(Message(item["role"], item["content"]))
    return tuple(out)


@attrs.frozen
class Rejection:
    """An example left out of the dataset, with the stage and reason (and any match)."""

    id: str
    source: str
    stage: str
    reason: str
    category: str = "unknown"
    match: str | None = None

    def to_json(self) -> dict[str, str | None]:
        """The rejection as a JSON object for the manifest."""
        return attrs.asdict(self)
