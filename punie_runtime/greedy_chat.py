"""What every greedy chat engine shares: the prompt, the stops, the reply and its costs.

`GreedyChat` renders a conversation with the model's chat template, checks the arguments of a
generation, decodes the reply text token by token (`ReplyText`: streamed pieces, stop strings)
and decides when it ends (an end-of-turn token, ``</tool_call>``, the token budget, or for
evaluation no call started in time). The engines (`punie_runtime.generate.Generator` on mlx,
`punie_runtime.llama_generate.LlamaGenerator` on llama.cpp) only run the model. Free of mlx.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import attrs

from punie_runtime.reply import Reply

if TYPE_CHECKING:
    from mlx_lm.tokenizer_utils import TokenizerWrapper

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


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens two sequences share."""
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


class ReplyText:
    """Incremental detokenization with stop-string detection and per-token streaming."""

    def __init__(
        self, tokenizer: TokenizerWrapper, stops: Sequence[str], sink: TokenCallback | None
    ):
        self.detokenizer = tokenizer.detokenizer  # a fresh copy per call
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


class GreedyChat:
    """The engine-independent half of greedy chat generation; subclasses run the model.

    A subclass implements `_generate` (prompt tokens -> `Generation`, feeding each reply token
    to `_accept`), `prefill` and `reset`. Not thread-safe: one conversation at a time.
    """

    def __init__(
        self,
        tokenizer: TokenizerWrapper,
        *,
        max_tokens: int = 512,
        stop_strings: Sequence[str] = (TOOL_CALL_END,),
        call_within: int | None = None,
    ) -> None:
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.stop_strings = tuple(stop_strings)
        # Evaluation expects a tool call: a reply that has not started one after this many
        # tokens is stopped ("no_call") instead of running to max_tokens.
        self.call_within = call_within
        vocab: Mapping[str, int] = tokenizer.vocab
        self.stop_tokens = set(tokenizer.eos_token_ids) | {
            vocab[token] for token in END_TOKENS if token in vocab
        }

    def render(self, messages: Sequence[Mapping[str, str]], *, reply: bool = True) -> list[int]:
        """A conversation's tokens; with `reply`, ending with the assistant turn's header."""
        text = self.tokenizer.apply_chat_template(
            [dict(message) for message in messages], tokenize=False, add_generation_prompt=reply
        )
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def prefill(self, messages: Sequence[Mapping[str, str]]) -> float:
        """Put a conversation prefix (e.g. just the system message) in the cache; seconds taken."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget the cached prefix."""
        raise NotImplementedError

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
            return self._generate(list(prompt), budget, on_token)
        except BaseException:
            # An interrupted step leaves the cache and its token record out of step.
            self.reset()
            raise

    def _generate(
        self, prompt: list[int], budget: int, on_token: TokenCallback | None
    ) -> Generation:
        raise NotImplementedError

    def _accept(
        self, token: int, tokens: list[int], text: ReplyText, budget: int
    ) -> StopReason | None:
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
