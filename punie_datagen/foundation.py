"""The foundation dataset (vendored Phase 28 data) and extra transcript folders."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import attrs

from punie_datagen.example import Example
from punie_datagen.jsonl import DatasetFileError, read_examples, sha256_file
from punie_tools.codemode import parse_tool_response

VENDORED = "foundation_data"


def vendored_foundation() -> Path:
    """The folder of the foundation set shipped inside this package."""
    return Path(str(resources.files("punie_datagen") / VENDORED))


@attrs.frozen
class Source:
    """Examples read from one origin, with each file's line count and hash."""

    name: str
    location: str
    examples: tuple[Example, ...]
    files: dict[str, dict[str, object]] = attrs.field(factory=dict)


def jsonl_files(path: Path) -> list[Path]:
    """The ``*.jsonl`` files of a folder (recursively, sorted) or the file itself."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DatasetFileError(f"{path}: no such file or folder")
    files = sorted(p for p in path.rglob("*.jsonl") if p.is_file())
    if not files:
        raise DatasetFileError(f"{path}: no .jsonl files in this folder")
    return files


def load_source(name: str, path: Path, location: str | None = None) -> Source:
    """Read every JSONL file under ``path``; ids are ``<name>:<relative file>:<line>``."""
    path = Path(path)
    files = jsonl_files(path)
    base = path if path.is_dir() else path.parent
    examples: list[Example] = []
    info: dict[str, dict[str, object]] = {}
    for file in files:
        rel = file.relative_to(base).as_posix()
        read = read_examples(file, name, f"{name}:{rel}")
        examples += read
        info[rel] = {"examples": len(read), "sha256": sha256_file(file)}
    return Source(name, location or str(path), tuple(examples), info)


def load_foundation(path: Path | None = None) -> Source:
    """The foundation examples: the vendored set, or the JSONL file/folder at ``path``."""
    if path is None:
        return load_source("foundation", vendored_foundation(), f"vendored:{VENDORED}")
    return load_source("foundation", path)


def has_invented_response(example: Example) -> bool:
    """Whether the example carries a tool response that no tool run produced."""
    return any(
        m.role == "user" and parse_tool_response(m.content) is not None for m in example.messages
    )
