"""Reading chat JSONL with errors that name the line, and writing files atomically."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from punie_datagen.example import Example, messages_from_json


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


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_atomic(path: Path, text: str) -> None:
    """Write a file through a temporary file and ``os.replace`` (never half written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a dataset is an ordinary file
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_examples(path: Path, examples: Iterable[Example]) -> None:
    """Write examples as JSONL, one per line, atomically."""
    write_atomic(path, "".join(e.to_json_line() + "\n" for e in examples))
