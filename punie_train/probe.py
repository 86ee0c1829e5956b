"""The tool-choice probe: which tool a model calls first for each of a set of requests.

The full evaluation runs every reply's code on a fixture (minutes per model); the probe asks
only the question that decides the rest. Each request gets the system prompt (its KV cache
kept between requests), the user message and the start of a Code Mode call; the model then
decodes greedily up to the first ``(`` (and on past one that opens no tool, such as
``print(``, at most `MAX_OPENINGS` times). The name before it is the chosen tool. On a CPU the
numpy decoder answers, on a copy of the weights with the adapters fused (the model in
training is left as it is); prompt-lookup drafting makes the few tokens cheap.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from punie_eval.first_call import NO_TOOL, Decision, decisions
from punie_tools.codemode import format_tool_call

if TYPE_CHECKING:
    import mlx.nn as nn

MAX_OPENINGS = 3
"""How many ``(`` the probe reads past before it gives up on finding a tool name."""
TOKENS_PER_OPENING = 16
_NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\($")
CALL_PREFIX = format_tool_call("\x00").split("\x00")[0]
"""The start of every Code Mode call, up to the first line of code."""


@attrs.frozen
class ProbeResult:
    """Expected and chosen first tool of each probed request, and the accuracy."""

    expected: tuple[str, ...]
    chosen: tuple[str, ...]
    seconds: float = 0.0

    @property
    def n(self) -> int:
        """How many requests were probed."""
        return len(self.expected)

    @property
    def accuracy(self) -> float:
        """Share of requests whose chosen first tool is the expected one."""
        if not self.expected:
            return 0.0
        return sum(e == c for e, c in zip(self.expected, self.chosen, strict=True)) / self.n

    def per_tool(self) -> dict[str, float]:
        """Accuracy for each expected tool."""
        out: dict[str, list[bool]] = {}
        for e, c in zip(self.expected, self.chosen, strict=True):
            out.setdefault(e, []).append(e == c)
        return {tool: sum(hits) / len(hits) for tool, hits in sorted(out.items())}


def probe_decisions(
    chats: Sequence[Sequence[Mapping[str, str]]],
    tool_names: Collection[str],
    *,
    limit: int | None = None,
    seed: int = 0,
) -> list[Decision]:
    """The tool decisions of a split's chats (those calling a tool), a seeded subset of `limit`."""
    found = [d for d in decisions(chats, tool_names) if d.tool != NO_TOOL]
    if limit is None or limit >= len(found):
        return found
    order = np.random.default_rng([seed, 1 << 21]).permutation(len(found))[:limit]
    return [found[int(i)] for i in sorted(order)]


def chosen_tool(text: str, tool_names: Collection[str]) -> str | None:
    """The tool named right before the final ``(`` of `text`; None if that name is no tool."""
    match = _NAME.search(text.rstrip())
    if match is None:
        return None
    return match.group(1) if match.group(1) in tool_names else None


def _generator(model: nn.Module, tokenizer: Any, max_tokens: int) -> Any:
    """The numpy decoder on a fused copy of the model (~2x mlx on a CPU), else mlx."""
    import mlx.core as mx

    from punie_runtime.generate import Generator
    from punie_runtime.numpy_generate import NumpyGenerator
    from punie_runtime.numpy_llama import NumpyLlama, UnsupportedModelError

    options: dict[str, Any] = {"max_tokens": max_tokens, "stop_strings": ("(",)}
    if mx.default_device().type == mx.DeviceType.cpu:
        try:
            decoder = NumpyLlama.from_mlx(model, fuse_adapters=True)
        except UnsupportedModelError:
            pass
        else:
            return NumpyGenerator(decoder, tokenizer, **options)
    return Generator(model, tokenizer, **options)


@attrs.define
class ToolProbe:
    """Asks a model for the first tool of each decision (see the module docstring)."""

    decisions: Sequence[Decision]
    system: str
    tool_names: Collection[str]
    tokens_per_opening: int = TOKENS_PER_OPENING

    def run(self, model: nn.Module, tokenizer: Any) -> ProbeResult:
        """Probe `model` (in eval mode for the duration); the result in decision order."""
        import time

        start = time.perf_counter()
        was_training = bool(getattr(model, "training", False))
        model.eval()
        try:
            generator = _generator(model, tokenizer, self.tokens_per_opening)
            prefix = list(tokenizer.encode(CALL_PREFIX, add_special_tokens=False))
            chosen = [self._ask(generator, prefix, d.query) for d in self.decisions]
        finally:
            if was_training:
                model.train()
        return ProbeResult(
            tuple(d.tool for d in self.decisions), tuple(chosen), time.perf_counter() - start
        )

    def _ask(self, generator: Any, prefix: list[int], query: str) -> str:
        messages = [{"role": "system", "content": self.system}, {"role": "user", "content": query}]
        prompt = generator.render(messages) + prefix
        text = ""
        for _ in range(MAX_OPENINGS):
            out = generator.generate_tokens(prompt)
            text += out.text
            tool = chosen_tool(text, self.tool_names)
            if tool is not None:
                return tool
            if out.stop != "stop_string":
                break
            prompt = prompt + list(out.tokens)
        return NO_TOOL
