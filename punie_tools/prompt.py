"""The one system prompt, rendered from the registry, used by training, eval and agents."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from punie_tools.spec import Parameter, ToolSpec

INTRO = """\
You are Punie, a Python coding assistant. To use tools, reply with a call:
<tool_call><function=execute_code>
<parameter=code>
{example}
</parameter>
</function></tool_call>
The code is Python without imports that calls the functions below and print()s what you \
need; results are objects with attributes. You get the output in <tool_response>. When done, \
answer in plain text."""


def example_call(tools: Sequence[ToolSpec]) -> str:
    """The prompt's example: the first tool that carries one, else a call of the first tool."""
    for spec in tools:
        if spec.example:
            return spec.example
    if not tools:
        return "print('no tools')"
    first = tools[0]
    args = ", ".join(repr(p.name) for p in first.parameters if p.required)
    return f"r = {first.name}({args})\nprint(r)"


def _param_text(p: Parameter) -> str:
    return p.name if p.required else f"{p.name}={p.default!r}"


def group_text(specs: list[ToolSpec]) -> str:
    """Tools sharing parameters written once: ``a, b(x, y=1)``."""
    args = ", ".join(_param_text(p) for p in specs[0].parameters)
    return f"{', '.join(s.name for s in specs)}({args})"


def summary_lines(tools: Sequence[ToolSpec]) -> list[str]:
    """One line per tool under its category: ``- name(args): summary``."""
    by_category: dict[str, list[ToolSpec]] = {}
    for spec in tools:
        by_category.setdefault(spec.category, []).append(spec)
    lines: list[str] = []
    for category, specs in by_category.items():
        lines.append(f"{category}:")
        lines.extend(
            f"- {s.name}({', '.join(_param_text(p) for p in s.parameters)}): {s.summary}"
            for s in specs
        )
    return lines


def system_prompt(tools: Iterable[ToolSpec], *, summaries: bool = False) -> str:
    """Render the system prompt: the Code Mode rules, then one line of tools per category.

    Tools with the same parameters share their argument list, which keeps the prompt short
    (every training example carries it); result fields are learned from the examples and
    are listed by ``python -m punie_tools stubs``. With ``summaries`` each tool gets its own
    line with its docstring's first line (about 2.5x the tokens).
    """
    tools = list(tools)
    if summaries:
        intro = INTRO.format(example=example_call(tools))
        return "\n".join([intro, "", "Functions by category:", *summary_lines(tools)])
    groups: dict[str, dict[tuple[str, ...], list[ToolSpec]]] = {}
    for spec in tools:
        key = tuple(_param_text(p) for p in spec.parameters)
        groups.setdefault(spec.category, {}).setdefault(key, []).append(spec)
    lines = [INTRO.format(example=example_call(tools)), "", "Functions by category:"]
    for category, by_shape in groups.items():
        lines.append(f"{category}: " + "; ".join(group_text(g) for g in by_shape.values()))
    return "\n".join(lines)


def prompt_hash(text: str) -> str:
    """A short stable hash identifying a system prompt (stored in manifests and reports)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]
