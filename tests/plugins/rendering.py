"""Render an ExampleTemplate the way the contract describes and run its code for real.

Variables a template samples with top-level ``{% set %}`` (outside any block) are evaluated
once and shared by every block; each block then renders in order, code blocks run in the
sandbox and later blocks see ``output`` (the last run's stdout) and ``outputs`` (all of them).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import attrs
import jinja2

from punie_tools import ExampleTemplate, Sandbox

CODE_BLOCKS = ("code", "code_2", "code_3")


@attrs.frozen
class Rendered:
    """One rendered example: the query, the code runs with their replies, and the answer."""

    query: str
    preamble: str
    codes: tuple[str, ...]
    replies: tuple[str, ...]
    errors: tuple[str | None, ...]
    answer: str


def render(template: ExampleTemplate, sandbox: Sandbox, seed: int) -> Rendered:
    """Render every block of ``template`` with a seeded RNG, running each code block."""
    rng = random.Random(seed)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    jinja_globals = {
        "choice": rng.choice,
        "sample": rng.sample,
        "randint": rng.randint,
        **template.context,
    }
    tmpl = env.from_string(template.source, globals=jinja_globals)
    # Run only the top-level statements: every block renders nothing in this pass.
    first = tmpl.new_context({"output": "", "outputs": []})
    first.blocks = {name: [_empty_block] for name in first.blocks}
    "".join(tmpl.root_render_func(first))
    shared = first.get_exported()

    def block(name: str, outputs: list[str]) -> str:
        if name not in tmpl.blocks:
            return ""
        ctx = tmpl.new_context(
            {**shared, "output": outputs[-1] if outputs else "", "outputs": list(outputs)}
        )
        return "".join(tmpl.blocks[name](ctx)).strip("\n")

    outputs: list[str] = []
    codes, errors = [], []
    query = block("query", outputs).strip()
    preamble = block("preamble", outputs).strip()
    for name in CODE_BLOCKS:
        code = block(name, outputs)
        if not code.strip():
            continue
        result = sandbox.run(code)
        codes.append(code)
        outputs.append(result.reply)
        errors.append(result.error)
    answer = block("answer", outputs).strip()
    return Rendered(query, preamble, tuple(codes), tuple(outputs), tuple(errors), answer)


def _empty_block(context: object) -> Iterator[str]:
    return iter(())
