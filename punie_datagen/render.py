"""Rendering plugins' Jinja example templates, block by block, with a seeded Random.

Top-level ``{% set %}`` statements run first, so every block sees the same drawn values;
blocks are then rendered in order (query, preamble, code, code_2, ..., answer), the later
ones with the real ``output``/``outputs`` of the code run before them.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import jinja2
from jinja2.sandbox import SandboxedEnvironment

from punie_tools.templates import ExampleTemplate

FIXED_BLOCKS = ("query", "preamble", "code", "answer")
_CODE_N = re.compile(r"^code_([2-9]|[1-9][0-9]+)$")


class TemplateError(Exception):
    """A template cannot be rendered; the message names the template and the cause."""


def template_key(template: ExampleTemplate) -> str:
    """A template's unique name: ``plugin/name``."""
    return f"{template.plugin}/{template.name}"


def derive_seed(*parts: object) -> int:
    """A 64-bit seed from parts (stable across processes, unlike ``hash()``)."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


@functools.cache
def environment() -> SandboxedEnvironment:
    """The Jinja environment: sandboxed, strict about undefined names, code-friendly."""
    return SandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


@functools.lru_cache(maxsize=512)
def _compile(key: str, source: str) -> jinja2.Template:
    try:
        template = environment().from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{key}: line {exc.lineno}: {exc.message}") from None
    unknown = [b for b in template.blocks if b not in FIXED_BLOCKS and not _CODE_N.match(b)]
    if unknown:
        raise TemplateError(f"{key}: unknown blocks {unknown}")
    for required in ("query", "code", "answer"):
        if required not in template.blocks:
            raise TemplateError(f"{key}: no {{% block {required} %}}")
    return template


def _no_block(context: object) -> Iterator[str]:
    return iter(())


class RenderSession:
    """One rendering of a template: its blocks share one context and one seeded Random."""

    def __init__(self, template: ExampleTemplate, seed: int, index: int) -> None:
        self.key = template_key(template)
        self.template = _compile(self.key, template.source)
        rng = random.Random(derive_seed(seed, self.key, index))
        values = {
            **template.context,
            "choice": rng.choice,
            "sample": rng.sample,
            "randint": rng.randint,
        }
        self.context = self.template.new_context(values)
        # Run only the top-level statements: the blocks are rendered one at a time later.
        blocks = self.context.blocks
        self.context.blocks = {name: [_no_block] for name in blocks}
        self._guard(lambda: "".join(self.template.root_render_func(self.context)))
        self.context.blocks = blocks

    def code_blocks(self) -> list[str]:
        """Names of the code blocks in the order they run."""
        extra = [b for b in self.template.blocks if _CODE_N.match(b)]
        return ["code", *sorted(extra, key=lambda b: int(b.split("_")[1]))]

    def block(self, name: str, **values: object) -> str:
        """Render one block (empty if the template does not define it)."""
        if name not in self.template.blocks:
            return ""
        self.context.vars.update(values)
        render = self.template.blocks[name]
        return self._guard(lambda: "".join(render(self.context)))

    def _guard(self, render: Callable[[], str]) -> str:
        try:
            return render()
        except jinja2.TemplateError as exc:
            raise TemplateError(f"{self.key}: {type(exc).__name__}: {exc}") from None
        except (IndexError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise TemplateError(f"{self.key}: {type(exc).__name__}: {exc}") from None


def clean_text(text: str) -> str:
    """A rendered prose block: surrounding whitespace removed."""
    return text.strip()


def clean_code(text: str) -> str:
    """A rendered code block: dedented, trailing spaces and blank edge lines removed."""
    lines = [line.rstrip() for line in textwrap.dedent(text).splitlines()]
    return "\n".join(lines).strip("\n")


@attrs.define
class RanSoFar:
    """What the code blocks of one rendering gave so far, as the blocks after them see it."""

    outputs: list[str] = attrs.field(factory=list)
    values: list[Any] = attrs.field(factory=list)
    last: Any = None

    def add(self, reply: str, values: tuple[Any, ...]) -> None:
        """Record one block's printed reply and its tools' return values (call order)."""
        self.outputs.append(reply)
        self.values += values
        self.last = values[-1] if values else None

    def context(self) -> dict[str, Any]:
        """The names a later block may read.

        ``output``/``outputs``: the latest printed reply and all of them; ``result``: the value
        the latest block's last tool call returned (None if it called none); ``results``:
        every value so far. Empty before any block ran.
        """
        if not self.outputs:
            return {}
        return {
            "output": self.outputs[-1],
            "outputs": list(self.outputs),
            "result": self.last,
            "results": list(self.values),
        }


@attrs.frozen
class Draft:
    """The first stage of a rendering: what is known before any code runs."""

    key: str
    index: int
    query: str
    preamble: str
    code: str


def draft(template: ExampleTemplate, seed: int, index: int) -> tuple[Draft, RenderSession]:
    """Render the query, preamble and first code block of one example."""
    session = RenderSession(template, seed, index)
    query = clean_text(session.block("query"))
    preamble = clean_text(session.block("preamble"))
    code = clean_code(session.block("code"))
    key = template_key(template)
    if not query:
        raise TemplateError(f"{key}: the query block rendered empty")
    if not code:
        raise TemplateError(f"{key}: the code block rendered empty")
    return Draft(key, index, query, preamble, code), session
