"""The one system prompt, rendered from the registry, used by training, eval and agents."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Iterable

from punie_tools.spec import Parameter, ToolSpec

INTRO = """\
You are Punie, a coding assistant for Python projects. To act, reply with one tool call:
<tool_call><function=execute_code>
<parameter=code>
result = ruff_check("src")
print(result.violation_count)
</parameter>
</function></tool_call>
The code is plain Python without imports; it calls the functions below, which return result \
objects with attributes, and print()s what you need. You then get the printed output in \
<tool_response>. Answer in plain text when you are done."""


def _param_text(p: Parameter) -> str:
    if p.default is inspect.Parameter.empty:
        return p.name
    return f"{p.name}={p.default!r}"


def tool_line(spec: ToolSpec) -> str:
    """The compact one-line signature used in the system prompt."""
    args = ", ".join(_param_text(p) for p in spec.parameters)
    return f"{spec.name}({args}) -> {spec.result_text}"


def system_prompt(tools: Iterable[ToolSpec]) -> str:
    """Render the system prompt: the Code Mode rules, then each tool grouped by category."""
    by_category: dict[str, list[ToolSpec]] = {}
    for spec in tools:
        by_category.setdefault(spec.category, []).append(spec)
    lines = [INTRO, "", "Functions:"]
    for category, specs in by_category.items():
        lines.append(f"# {category}")
        lines += [tool_line(s) for s in specs]
    return "\n".join(lines)


def prompt_hash(text: str) -> str:
    """A short stable hash identifying a system prompt (stored in manifests and reports)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]
