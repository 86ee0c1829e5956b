"""Greedy generation for evaluation and the agent, with the shared prompt's KV cache reused.

On a CPU, decoding a float32 model is bound by reading every weight once per step (mlx's
quantized and half-precision CPU matmuls are slower still), so the wins are in not doing
work: the KV cache of the longest prefix shared with the previous conversation (the system
prompt, earlier turns) is kept and trimmed instead of prefilled again; generation stops right
after ``</tool_call>``; and prompt-lookup drafting verifies several tokens copied from the
conversation (tool-call boilerplate, paths, names) in one forward pass, which costs little
more than a one-token pass and gives exactly the greedy output. `bench/generate.py` measures
each of these.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import mlx.core as mx
from mlx_lm.models.cache import can_trim_prompt_cache, make_prompt_cache, trim_prompt_cache

from punie_runtime.greedy_chat import (
    END_TOKENS,
    TOOL_CALL_END,
    TOOL_CALL_START,
    Generation,
    GreedyChat,
    ReplyText,
    StopReason,
    TokenCallback,
    common_prefix,
)

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


def find_draft(
    history: Sequence[int], length: int, max_ngram: int = 3, min_ngram: int = 2
) -> list[int]:
    """Tokens that followed the latest earlier occurrence of the history's last n-gram.

    The longest n-gram (down to `min_ngram`) that occurred before wins; single-token
    matches are mostly wrong guesses, each costing a wider forward pass.
    """
    size = len(history)
    for n in range(min(max_ngram, size - 1), min_ngram - 1, -1):
        tail = list(history[-n:])
        last = tail[-1]
        for end in range(size - 2, n - 2, -1):
            if history[end] == last and list(history[end - n + 1 : end + 1]) == tail:
                return list(history[end + 1 : end + 1 + length])
    return []


class Generator(GreedyChat):
    """Greedy chat generation with a model and tokenizer, reusing the KV cache between calls.

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
            tokenizer, max_tokens=max_tokens, stop_strings=stop_strings, call_within=call_within
        )
        self.model = model
        self.reuse_cache = reuse_cache
        self.draft_tokens = draft_tokens
        self.draft_ngram = draft_ngram
        self.prefill_step = prefill_step
        self._cache: list[Any] = []
        self._cached: list[int] = []

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

    def prefill(self, messages: Sequence[Mapping[str, str]]) -> float:
        """Put a conversation prefix (e.g. just the system message) in the cache; seconds taken.

        Later calls whose prompt starts with it skip its prefill.
        """
        tokens = self.render(messages, reply=False)
        start = time.perf_counter()
        try:
            reused = self._prepare_cache([*tokens, -1])  # keep all of it when already cached
            if reused < len(tokens):
                self._feed(tokens[reused:])
            mx.eval([c.state for c in self._cache])
        except BaseException:
            self.reset()
            raise
        return time.perf_counter() - start

    def reset(self) -> None:
        """Forget the cached prefix."""
        self._cache, self._cached = [], []

    def _generate(
        self, prompt: list[int], budget: int, on_token: TokenCallback | None
    ) -> Generation:
        start = time.perf_counter()
        reused = self._prepare_cache(prompt)
        logits = self._feed(list(prompt[reused:]))
        first = mx.argmax(logits[-1:], axis=-1)
        mx.eval(first)
        prefill = time.perf_counter() - start
        text = ReplyText(self.tokenizer, self.stop_strings, on_token)
        start = time.perf_counter()
        if self.draft_tokens > 0:
            tokens, stop, passes = self._decode_drafting(list(prompt), first, budget, text)
        else:
            tokens, stop, passes = self._decode_plain(first, budget, text)
        reply = text.finish()
        mx.eval([c.state for c in self._cache])
        decode = time.perf_counter() - start
        return Generation(
            reply,
            seconds=prefill + decode,
            prompt_tokens=len(prompt),
            generated_tokens=len(tokens),  # a stop token included
            prefill_seconds=prefill,
            reused_tokens=reused,
            tokens=tuple(tokens),
            stop=stop,
            forward_passes=passes,
        )

    def _prepare_cache(self, prompt: Sequence[int]) -> int:
        """Trim the cache to the longest prefix shared with `prompt`; how many tokens it keeps."""
        if not (self.reuse_cache and self._cache and can_trim_prompt_cache(self._cache)):
            self._cache, self._cached = make_prompt_cache(self.model), []
            return 0
        # Keep at least the last prompt token to feed: its logits give the first reply token.
        keep = min(common_prefix(self._cached, prompt), len(prompt) - 1)
        self._trim(len(self._cached) - keep)
        return keep

    def _trim(self, count: int) -> None:
        if count > 0:
            trim_prompt_cache(self._cache, count)
            del self._cached[-count:]

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

    def _decode_plain(
        self, first: mx.array, budget: int, text: ReplyText
    ) -> tuple[list[int], StopReason, int]:
        """One token per forward pass; the next pass is queued before the current token is read."""
        tokens: list[int] = []
        current = first
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

    def _decode_drafting(
        self, history: list[int], first: mx.array, budget: int, text: ReplyText
    ) -> tuple[list[int], StopReason, int]:
        """Prompt-lookup decoding: verify tokens copied from the conversation in one pass."""
        tokens: list[int] = []
        token = _item(first)
        passes = 0
        while True:
            stop = self._accept(token, tokens, text, budget)
            if stop is not None:
                return tokens, stop, passes
            history.append(token)
            room = budget - len(tokens) - 1
            draft = find_draft(history, min(self.draft_tokens, room), self.draft_ngram)
            predicted = cast("list[int]", mx.argmax(self._feed([token, *draft]), axis=-1).tolist())
            passes += 1
            accepted = 0
            while accepted < len(draft) and draft[accepted] == predicted[accepted]:
                accepted += 1
            self._trim(len(draft) - accepted)
            for index, drafted in enumerate(draft[:accepted]):
                stop = self._accept(drafted, tokens, text, budget)
                if stop is not None:
                    # The cache already holds the rest of the accepted draft: drop it.
                    self._trim(accepted - index - 1)
                    return tokens, stop, passes
                history.append(drafted)
            token = predicted[accepted]
