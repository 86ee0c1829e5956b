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


def test_the_example_comes_from_the_registry(monkeypatch) -> None:
    """The example is the first tool's that carries one; without it, no plugin's name leaks."""
    assert 'r = ruff_check("src")\nprint(r.violation_count)' in system_prompt(Registry.load())
    monkeypatch.setenv("PUNIE_DISABLED_PLUGINS", "validation")
    registry = Registry.load()
    text = system_prompt(registry)
    assert "ruff_check" not in text
    first = registry.tools()[0]
    assert f"<parameter=code>\nr = {first.name}(" in text


def test_a_preview_call_of_a_writing_tool_does_not_write() -> None:
    """`preview_flag` set False makes a call a preview; other tools ignore that argument."""
    from punie_tools.policy import call_writes
    from punie_tools.spec import ToolSpec

    specs = {s.name: s for s in Registry.load().tools()}
    rename = specs["cst_rename"]
    assert rename.preview_flag == "write"
    assert not call_writes(rename, {"write": False}) and call_writes(rename, {"write": True})
    plain = ToolSpec.from_function(rename.function, category="x", writes=True)
    assert call_writes(plain, {"write": False})


def test_summaries_give_every_tool_its_line_and_docstring_summary() -> None:
    """With summaries, each tool has one line: its signature, then its summary."""
    registry = Registry.load()
    text = system_prompt(registry, summaries=True)
    lines = text.splitlines()
    for spec in registry.tools():
        [line] = [x for x in lines if x.startswith(f"- {spec.name}(")]
        assert line.endswith(f"): {spec.summary}")
    for category in registry.categories():
        assert f"{category}:" in lines
    assert text.startswith(system_prompt(registry).split("Functions by category:")[0])
