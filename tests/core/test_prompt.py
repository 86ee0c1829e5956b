"""The system prompt rendered from the installed plugins."""

from __future__ import annotations

from punie_runtime.tokens import count_tokens
from punie_tools import Registry
from punie_tools.prompt import system_prompt


def test_prompt_names_every_tool_and_category() -> None:
    """Every registered tool and category appears in the prompt."""
    registry = Registry.load()
    text = system_prompt(registry)
    for spec in registry.tools():
        assert spec.name in text
    for category in registry.categories():
        assert f"\n{category}: " in text


def test_prompt_is_small() -> None:
    """The prompt stays within 400 tokens of the embedded model (every example carries it)."""
    assert count_tokens(system_prompt(Registry.load())) <= 400
