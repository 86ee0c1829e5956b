"""Fixtures for the datagen tests: a drop-in plugin and a small foundation file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from punie_datagen import DatagenOptions
from punie_tools import Registry
from punie_tools.codemode import format_tool_call
from tests.datagen.words_plugin import PLUGIN, write_plugin

CALL_B = format_tool_call("{}", compact=True)


def conversation(*turns: tuple[str, str], system: str | None = "old prompt") -> dict:
    """A ``{"messages": [...]}`` object from (role, content) pairs."""
    messages = [] if system is None else [{"role": "system", "content": system}]
    messages += [{"role": r, "content": c} for r, c in turns]
    return {"messages": messages}


FOUNDATION = [
    conversation(("user", "hello there"), ("assistant", "Hi! How can I help?")),
    conversation(
        ("user", "How many words does a.txt have?"),
        ("assistant", CALL_B.format('r = count_words("a.txt")\nprint(r.words)')),
        ("user", "<tool_response>WordCountResult(success=True, words=8)</tool_response>"),
        ("assistant", "a.txt has 8 words."),
    ),
    conversation(
        ("user", "Most common words in c.txt"),
        ("assistant", CALL_B.format('r = count_words_direct("c.txt", top=2)\nprint(r.top)')),
    ),
    conversation(
        ("user", "Show the type info of c.txt's count"),
        ("assistant", CALL_B.format('r = count_words("c.txt")\nprint(r.type_info)')),
    ),
    conversation(("user", "hello there"), ("assistant", "Hi! How can I help?"), system=None),
    conversation(
        ("user", "What is the total number of words written in the file b.txt of my notes?"),
        ("assistant", CALL_B.format('print(count_words("b.txt").words)')),
    ),
]


@pytest.fixture(name="words_env")
def fixture_words_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PUNIE_PLUGIN_PATH holding only the demo_words drop-in; entry-point plugins are off."""
    plugins = tmp_path / "plugins"
    write_plugin(plugins)
    monkeypatch.setenv("PUNIE_PLUGIN_PATH", str(plugins))
    monkeypatch.setenv("PUNIE_LOAD_PLUGINS", PLUGIN)
    return plugins


@pytest.fixture(name="registry")
def fixture_registry(words_env: Path) -> Registry:
    """A registry with only the demo_words plugin."""
    registry = Registry.load()
    assert not registry.errors, registry.errors
    return registry


@pytest.fixture(name="foundation_file")
def fixture_foundation_file(tmp_path: Path) -> Path:
    """A small foundation JSONL: chat, calls, a repairable call, a bad read, a duplicate, a leak."""
    path = tmp_path / "foundation.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in FOUNDATION))
    return path


@pytest.fixture(name="options")
def fixture_options(tmp_path: Path, foundation_file: Path, words_env: Path) -> DatagenOptions:
    """Small, fast build options over the drop-in plugin and the small foundation."""
    return DatagenOptions(
        out=tmp_path / "data" / "demo", per_tool=6, workers=1, foundation=foundation_file
    )
