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
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

import attrs
import mlx.core as mx
from mlx_lm.models.cache import can_trim_prompt_cache, make_prompt_cache, trim_prompt_cache

from punie_runtime.reply import Reply

if TYPE_CHECKING:
    import mlx.nn as nn
    from mlx_lm.tokenizer_utils import TokenizerWrapper

    from punie_runtime.base_model import BaseModel

StopReason = Literal["eos", "stop_string", "max_tokens", "no_call"]
TokenCallback = Callable[[str], None]
TOOL_CALL_START = "<tool_call>"
TOOL_CALL_END = "</tool_call>"
END_TOKENS = ("<|im_end|>", "<|endoftext|>")


@attrs.frozen
class Generation(Reply):
    """One greedy reply and what it cost, with its tokens and why generation stopped.

    A `Reply` itself: evaluation keeps it as its steps' reply, nothing copied.
    """

    tokens: tuple[int, ...] = attrs.field(kw_only=True)
    stop: StopReason = attrs.field(kw_only=True)
    forward_passes: int = attrs.field(kw_only=True)


def _item(token: mx.array) -> int:
    return cast(int, token.item())


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


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


class _Text:
    """Incremental detokenization with stop-string detection and per-token streaming."""

    def __init__(
        self, tokenizer: TokenizerWrapper, stops: Sequence[str], sink: TokenCallback | None
    ):
        self.detokenizer = tokenizer.detokenizer
        self.stops = stops
        self.sink = sink
        self.emitted = 0
        self.cut: int | None = None

    def add(self, token: int) -> bool:
        """Add a token; True once a stop string is complete."""
        self.detokenizer.add_token(token)
        text = self.detokenizer.text
        for stop in self.stops:
            index = text.find(stop, max(0, self.emitted - len(stop)))
            if index >= 0:
                self.cut = index + len(stop)
                break
        self._emit(text)
        return self.cut is not None

    def finish(self) -> str:
        """The full text (cut after the stop string), flushing what was not streamed."""
        self.detokenizer.finalize()
        text = self.detokenizer.text
        self._emit(text)
        return text if self.cut is None else text[: self.cut]

    def _emit(self, text: str) -> None:
        end = len(text) if self.cut is None else self.cut
        if end > self.emitted:
            if self.sink is not None:
                self.sink(text[self.emitted : end])
            self.emitted = end


class Generator:
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
        self.model = model
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.reuse_cache = reuse_cache
        self.stop_strings = tuple(stop_strings)
        self.draft_tokens = draft_tokens
        self.draft_ngram = draft_ngram
        self.prefill_step = prefill_step
        # Evaluation expects a tool call: a reply that has not started one after this many
        # tokens is stopped ("no_call") instead of running to max_tokens.
        self.call_within = call_within
        vocab: Mapping[str, int] = tokenizer.vocab
        self.stop_tokens = set(tokenizer.eos_token_ids) | {
            vocab[token] for token in END_TOKENS if token in vocab
        }
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

    def render(self, messages: Sequence[Mapping[str, str]]) -> list[int]:
        """The prompt tokens for a conversation, ending with the assistant turn's header."""
        text = self.tokenizer.apply_chat_template(
            [dict(message) for message in messages], tokenize=False, add_generation_prompt=True
        )
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def prefill(self, messages: Sequence[Mapping[str, str]]) -> float:
        """Put a conversation prefix (e.g. just the system message) in the cache; seconds taken.

        Later calls whose prompt starts with it skip its prefill.
        """
        text = self.tokenizer.apply_chat_template(
            [dict(message) for message in messages], tokenize=False, add_generation_prompt=False
        )
        tokens = list(self.tokenizer.encode(text, add_special_tokens=False))
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

    def generate(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        max_tokens: int | None = None,
        on_token: TokenCallback | None = None,
    ) -> Generation:
        """The greedy assistant reply to `messages`, streamed piece by piece to `on_token`."""
        return self.generate_tokens(self.render(messages), max_tokens=max_tokens, on_token=on_token)

    def generate_tokens(
        self,
        prompt: Sequence[int],
        *,
        max_tokens: int | None = None,
        on_token: TokenCallback | None = None,
    ) -> Generation:
        """The greedy continuation of a token prompt."""
        if not prompt:
            raise ValueError("empty prompt")
        budget = self.max_tokens if max_tokens is None else max_tokens
        if budget < 1:
            raise ValueError(f"max_tokens must be at least 1, not {budget}")
        try:
            return self._generate(prompt, budget, on_token)
        except BaseException:
            # An interrupted step leaves the cache and its token record out of step.
            self.reset()
            raise

    def _generate(
        self, prompt: Sequence[int], budget: int, on_token: TokenCallback | None
    ) -> Generation:
        start = time.perf_counter()
        reused = self._prepare_cache(prompt)
        logits = self._feed(list(prompt[reused:]))
        first = mx.argmax(logits[-1:], axis=-1)
        mx.eval(first)
        prefill = time.perf_counter() - start
        text = _Text(self.tokenizer, self.stop_strings, on_token)
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
        keep = min(_common_prefix(self._cached, prompt), len(prompt) - 1)
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

    def _accept(self, token: int, tokens: list[int], text: _Text, budget: int) -> StopReason | None:
        """Record one reply token; why generation stops after it, if it does."""
        tokens.append(token)
        if token in self.stop_tokens:
            return "eos"
        if text.add(token):
            return "stop_string"
        if len(tokens) >= budget:
            return "max_tokens"
        if (
            self.call_within is not None
            and len(tokens) >= self.call_within
            and TOOL_CALL_START not in text.detokenizer.text
        ):
            return "no_call"
        return None

    def _decode_plain(
        self, first: mx.array, budget: int, text: _Text
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
        self, history: list[int], first: mx.array, budget: int, text: _Text
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
