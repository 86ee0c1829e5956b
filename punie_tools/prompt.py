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


def _args(spec: ToolSpec) -> str:
    return ", ".join(_param_text(p) for p in spec.parameters)


def _by_category(tools: Iterable[ToolSpec]) -> dict[str, list[ToolSpec]]:
    by_category: dict[str, list[ToolSpec]] = {}
    for spec in tools:
        by_category.setdefault(spec.category, []).append(spec)
    return by_category


def group_text(specs: list[ToolSpec]) -> str:
    """Tools sharing parameters written once: ``a, b(x, y=1)``."""
    return f"{', '.join(s.name for s in specs)}({_args(specs[0])})"


def summary_lines(tools: Sequence[ToolSpec]) -> list[str]:
    """One line per tool under its category: ``- name(args): summary``."""
    lines: list[str] = []
    for category, specs in _by_category(tools).items():
        lines.append(f"{category}:")
        lines.extend(f"- {s.name}({_args(s)}): {s.summary}" for s in specs)
    return lines


def system_prompt(tools: Iterable[ToolSpec], *, summaries: bool = False) -> str:
    """Render the system prompt: the Code Mode rules, then one line of tools per category.

    Tools with the same parameters share their argument list, which keeps the prompt short
    (every training example carries it); result fields are learned from the examples and
    are listed by ``python -m punie_tools stubs``. With ``summaries`` each tool gets its own
    line with its docstring's first line (about 2.5x the tokens).
    """
    tools = list(tools)
    lines = [INTRO.format(example=example_call(tools)), "", "Functions by category:"]
    if summaries:
        return "\n".join([*lines, *summary_lines(tools)])
    for category, specs in _by_category(tools).items():
        by_shape: dict[str, list[ToolSpec]] = {}
        for spec in specs:
            by_shape.setdefault(_args(spec), []).append(spec)
        lines.append(f"{category}: " + "; ".join(group_text(g) for g in by_shape.values()))
    return "\n".join(lines)


def prompt_hash(text: str) -> str:
    """A short stable hash identifying a system prompt (stored in manifests and reports)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]
