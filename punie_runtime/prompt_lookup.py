"""Greedy chat with a reusable KV cache and prompt-lookup drafting, for any engine.

The engine-independent loop of `Generator` (mlx) and `NumpyGenerator` (numpy): the KV cache
of the longest prefix shared with the previous conversation (the system prompt, earlier turns)
is kept and trimmed instead of prefilled again, and prompt-lookup drafting verifies several
tokens copied from the conversation (tool-call boilerplate, paths, names) in one forward pass,
which costs little more than a one-token pass and gives exactly the greedy output. A subclass
runs the model: it feeds tokens into its cache and returns greedy next tokens (`_greedy`),
drops cached positions (`_drop`), starts a fresh cache (`_clear_cache`) and decodes one token
per pass (`_decode_plain`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from punie_runtime.greedy_chat import (
    TOOL_CALL_END,
    Generation,
    GreedyChat,
    ReplyText,
    StopReason,
    TokenCallback,
    common_prefix,
)

if TYPE_CHECKING:
    from mlx_lm.tokenizer_utils import TokenizerWrapper


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


class PromptLookupChat(GreedyChat):
    """Greedy chat generation that reuses its KV cache between calls and drafts from the prompt.

    Each pass checks up to `draft_tokens` tokens that followed the latest earlier occurrence of
    the history's last n-gram (n from `draft_ngram` down to `draft_min_ngram`; 0 tokens: no
    drafting). Not thread-safe: one conversation at a time.
    """

    def __init__(
        self,
        tokenizer: TokenizerWrapper,
        *,
        max_tokens: int = 512,
        reuse_cache: bool = True,
        stop_strings: Sequence[str] = (TOOL_CALL_END,),
        draft_tokens: int = 8,
        draft_ngram: int = 3,
        draft_min_ngram: int = 2,
        call_within: int | None = None,
    ) -> None:
        super().__init__(
            tokenizer, max_tokens=max_tokens, stop_strings=stop_strings, call_within=call_within
        )
        self.reuse_cache = reuse_cache
        self.draft_tokens = draft_tokens
        self.draft_ngram = draft_ngram
        self.draft_min_ngram = draft_min_ngram
        self._cached: list[int] = []  # the tokens whose positions the cache holds

    def prefill(self, messages: Sequence[Mapping[str, str]]) -> float:
        """Put a conversation prefix (e.g. just the system message) in the cache; seconds taken.

        Later calls whose prompt starts with it skip its prefill.
        """
        tokens = self.render(messages, reply=False)
        start = time.perf_counter()
        try:
            reused = self._prepare_cache([*tokens, -1])  # keep all of it when already cached
            if reused < len(tokens):
                self._greedy(tokens[reused:], every=False)
            self._settle()
        except BaseException:
            self.reset()
            raise
        return time.perf_counter() - start

    def reset(self) -> None:
        """Forget the cached prefix."""
        self._clear_cache()

    def _generate(
        self, prompt: list[int], budget: int, on_token: TokenCallback | None
    ) -> Generation:
        start = time.perf_counter()
        reused = self._prepare_cache(prompt)
        first = self._greedy(list(prompt[reused:]), every=False)[-1]
        prefill = time.perf_counter() - start
        text = ReplyText(self.tokenizer, self.stop_strings, on_token)
        start = time.perf_counter()
        if self.draft_tokens > 0:
            tokens, stop, passes = self._decode_drafting(list(prompt), first, budget, text)
        else:
            tokens, stop, passes = self._decode_plain(first, budget, text)
        reply = text.finish()
        self._settle()
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
        if not (self.reuse_cache and self._cache_usable()):
            self._clear_cache()
            return 0
        # Keep at least the last prompt token to feed: its logits give the first reply token.
        keep = min(common_prefix(self._cached, prompt), len(prompt) - 1)
        self._trim(len(self._cached) - keep)
        return keep

    def _trim(self, count: int) -> None:
        if count > 0:
            self._drop(count)
            del self._cached[-count:]

    def _cache_usable(self) -> bool:
        """Whether the cache holds positions that can be trimmed back and reused."""
        raise NotImplementedError

    def _clear_cache(self) -> None:
        """Start an empty cache (and an empty token record)."""
        raise NotImplementedError

    def _drop(self, count: int) -> None:
        """Drop the cache's last `count` positions (the token record is trimmed by the caller)."""
        raise NotImplementedError

    def _greedy(self, tokens: list[int], *, every: bool) -> list[int]:
        """Feed tokens into the cache (and the record); the greedy next token after each of
        them (`every`) or after the last."""
        raise NotImplementedError

    def _settle(self) -> None:
        """Finish any computation still queued on the cache."""

    def _decode_plain(
        self, first: int, budget: int, text: ReplyText
    ) -> tuple[list[int], StopReason, int]:
        """One token per forward pass."""
        raise NotImplementedError

    def _decode_drafting(
        self, history: list[int], first: int, budget: int, text: ReplyText
    ) -> tuple[list[int], StopReason, int]:
        """Prompt-lookup decoding: verify tokens copied from the conversation in one pass."""
        tokens: list[int] = []
        token = first
        passes = 0
        while True:
            stop = self._accept(token, tokens, text, budget)
            if stop is not None:
                return tokens, stop, passes
            history.append(token)
            room = budget - len(tokens) - 1
            draft = find_draft(
                history, min(self.draft_tokens, room), self.draft_ngram, self.draft_min_ngram
            )
            predicted = self._greedy([token, *draft], every=True)
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
