"""Greedy generation with mlx for evaluation and the agent (`PromptLookupChat` on mlx).

On a CPU, decoding a float32 model with mlx pays for every operation one after another, so
the wins are in not doing work: the KV cache of the shared prefix is reused, generation stops
right after ``</tool_call>``, and prompt-lookup drafting verifies several tokens in one pass
(`punie_runtime.prompt_lookup`). `bench/generate.py` measures each of these.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import mlx.core as mx
from mlx_lm.models.cache import can_trim_prompt_cache, make_prompt_cache, trim_prompt_cache

from punie_runtime.greedy_chat import (
    END_TOKENS,
    TOOL_CALL_END,
    TOOL_CALL_START,
    Generation,
    ReplyText,
    StopReason,
    TokenCallback,
)
from punie_runtime.prompt_lookup import PromptLookupChat, find_draft

if TYPE_CHECKING:
    import mlx.nn as nn
    from mlx_lm.tokenizer_utils import TokenizerWrapper

    from punie_runtime.base_model import BaseModel

__all__ = [
    "END_TOKENS",
    "TOOL_CALL_END",
    "TOOL_CALL_START",
    "Generation",
    "Generator",
    "StopReason",
    "TokenCallback",
    "find_draft",
]


def _item(token: mx.array) -> int:
    return cast(int, token.item())


class Generator(PromptLookupChat):
    """Greedy chat generation with an mlx model and tokenizer, reusing the KV cache.

    Not thread-safe: one conversation at a time.
    """

    def __init__(
        self,
        model: nn.Module,
        tokenizer: TokenizerWrapper,
        *,
        max_tokens: int = 512,
        reuse_cache: bool = True,
        stop_strings: Sequence[str] = (TOOL_CALL_END,),
        draft_tokens: int = 8,
        draft_ngram: int = 3,
        prefill_step: int = 512,
        call_within: int | None = None,
    ) -> None:
        super().__init__(
            tokenizer,
            max_tokens=max_tokens,
            reuse_cache=reuse_cache,
            stop_strings=stop_strings,
            draft_tokens=draft_tokens,
            draft_ngram=draft_ngram,
            call_within=call_within,
        )
        self.model = model
        self.prefill_step = prefill_step
        self._cache: list[Any] = []

    @classmethod
    def load(
        cls,
        spec: BaseModel | str | None = None,
        adapter_path: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> Generator:
        """A generator for a base model spec (see `BaseModel.parse`) with optional adapters."""
        from punie_runtime.base_model import load_model

        model, tokenizer = load_model(spec, adapter_path)
        return cls(model, tokenizer, **options)

    def _cache_usable(self) -> bool:
        return bool(self._cache) and can_trim_prompt_cache(self._cache)

    def _clear_cache(self) -> None:
        self._cache, self._cached = make_prompt_cache(self.model), []

    def _drop(self, count: int) -> None:
        trim_prompt_cache(self._cache, count)

    def _feed(self, tokens: list[int]) -> mx.array:
        """Run tokens through the model into the cache; the logits of each fed token."""
        logits = None
        for begin in range(0, len(tokens), self.prefill_step):
            chunk = tokens[begin : begin + self.prefill_step]
            logits = self.model(mx.array([chunk]), cache=self._cache)[0]
            self._cached.extend(chunk)
            if begin + self.prefill_step < len(tokens):
                mx.eval([c.state for c in self._cache])
        assert logits is not None
        return logits

    def _greedy(self, tokens: list[int], *, every: bool) -> list[int]:
        """Feed tokens; the greedy next token after each of them (`every`) or after the last."""
        logits = self._feed(tokens)
        return cast("list[int]", mx.argmax(logits if every else logits[-1:], axis=-1).tolist())

    def _settle(self) -> None:
        mx.eval([c.state for c in self._cache])

    def _decode_plain(
        self, first: int, budget: int, text: ReplyText
    ) -> tuple[list[int], StopReason, int]:
        """One token per forward pass; the next pass is queued before the current token is read."""
        tokens: list[int] = []
        current = mx.array([first])
        passes = 0
        while True:
            # Build the next step's graph while `current` computes (mlx_lm does the same);
            # when `current` turns out to end the reply, that one step is wasted.
            upcoming = None
            if len(tokens) + 1 < budget:
                logits = self.model(current[None], cache=self._cache)
                upcoming = mx.argmax(logits[0, -1:], axis=-1)
                mx.async_eval(upcoming)
                passes += 1
            token = _item(current)
            if upcoming is not None:
                self._cached.append(token)
            stop = self._accept(token, tokens, text, budget)
            if stop is not None:
                return tokens, stop, passes
            assert upcoming is not None
            current = upcoming
