"""Reading chat JSONL with errors that name the line, and writing files atomically."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from punie_datagen.example import Example, messages_from_json
from punie_tools import atomic


class DatasetFileError(ValueError):
    """A dataset file cannot be read; the message is ``file:line: what is wrong``."""


def read_examples(path: Path, source: str, id_prefix: str) -> list[Example]:
    """Read a ``{"messages": [...]}`` JSONL file; ids are ``<prefix>:<line>``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetFileError(f"{path}: cannot read: {exc}") from None
    out = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetFileError(f"{path}:{lineno}: invalid JSON: {exc.msg}") from None
        try:
            messages = messages_from_json(raw)
        except ValueError as exc:
            raise DatasetFileError(f"{path}:{lineno}: {exc}") from None
        out.append(Example(id=f"{id_prefix}:{lineno}", source=source, messages=messages))
    return out


def read_chat_jsonl(path: Path) -> list[list[dict[str, str]]]:
    """The message lists of an mlx-lm chat JSONL file; a bad line is an error naming file:line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise DatasetFileError(f"{path}: cannot read ({error.strerror})") from None
    chats = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DatasetFileError(f"{path}:{number}: not JSON ({error.msg})") from None
        chats.append(_messages(record, f"{path}:{number}"))
    if not chats:
        raise DatasetFileError(f"{path}: no examples")
    return chats


def _messages(record: Any, where: str) -> list[dict[str, str]]:
    messages = record.get("messages") if isinstance(record, Mapping) else None
    if not isinstance(messages, list) or not messages:
        raise DatasetFileError(f'{where}: expected {{"messages": [...]}} with at least one message')
    for index, message in enumerate(messages):
        if not (
            isinstance(message, Mapping)
            and isinstance(message.get("role"), str)
            and isinstance(message.get("content"), str)
        ):
            raise DatasetFileError(f"{where}: message {index} needs string 'role' and 'content'")
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_atomic(path: Path, text: str) -> None:
    """Write a file aside, fsync it and ``os.replace`` it into place (never half written)."""
    atomic.write_text(Path(path), text)


def write_examples(path: Path, examples: Iterable[Example]) -> None:
    """Write examples as JSONL, one per line, atomically."""
    write_atomic(path, "".join(e.to_json_line() + "\n" for e in examples))
