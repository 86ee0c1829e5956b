"""Greedy generation with llama.cpp (`llama-cpp-python`, the optional ``llama`` extra).

`LlamaGenerator` answers like `punie_runtime.generate.Generator`, from a GGUF file instead of
the mlx model: the same chat template and tokenizer (the mlx-lm tokenizer of the embedded
model renders the prompt and decodes the reply, so the text is the same for the same tokens),
the same stops (end of turn, ``</tool_call>``, the token budget, no call started in time),
the KV cache of the longest shared prefix kept between calls, and a `Generation` with the
same timings. llama.cpp reads a Q8_0 model (~145 MB) per token where mlx reads the float32
one (~540 MB), so on a CPU each token costs a fraction; `bench/generate.py --llama` measures
it and checks that the greedy tool calls stay those of the mlx path.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from punie_runtime.generate import (
    END_TOKENS,
    TOOL_CALL_END,
    TOOL_CALL_START,
    Generation,
    StopReason,
    TokenCallback,
    _common_prefix,
    _Text,
)

if TYPE_CHECKING:
    from mlx_lm.tokenizer_utils import TokenizerWrapper

DEFAULT_CONTEXT = 4096


class LlamaUnavailableError(RuntimeError):
    """llama-cpp-python is not installed; the message says how to install it."""


def _llama_module() -> Any:
    try:
        return importlib.import_module("llama_cpp")
    except ImportError:
        raise LlamaUnavailableError(
            "llama.cpp is not installed: .venv/bin/pip install 'llama-cpp-python>=0.3' "
            "(or install the project with the [llama] extra)"
        ) from None


class LlamaGenerator:
    """Greedy chat generation from a GGUF file with llama.cpp, like `Generator`.

    Not thread-safe: one conversation at a time.
    """

    def __init__(
        self,
        gguf: str | os.PathLike[str],
        tokenizer: TokenizerWrapper,
        *,
        max_tokens: int = 512,
        stop_strings: Sequence[str] = (TOOL_CALL_END,),
        call_within: int | None = None,
        n_ctx: int = DEFAULT_CONTEXT,
        n_threads: int | None = None,
    ) -> None:
        llama_cpp = _llama_module()
        threads = n_threads or os.cpu_count() or 1
        self.path = Path(gguf)
        self.llm = llama_cpp.Llama(
            model_path=str(self.path),
            n_ctx=n_ctx,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.stop_strings = tuple(stop_strings)
        self.call_within = call_within
        vocab: Mapping[str, int] = tokenizer.vocab
        self.stop_tokens = set(tokenizer.eos_token_ids) | {
            vocab[token] for token in END_TOKENS if token in vocab
        }

    def render(self, messages: Sequence[Mapping[str, str]]) -> list[int]:
        """The prompt tokens for a conversation, ending with the assistant turn's header."""
        text = self.tokenizer.apply_chat_template(
            [dict(message) for message in messages], tokenize=False, add_generation_prompt=True
        )
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def _cached(self) -> list[int]:
        return [int(t) for t in self.llm.input_ids[: self.llm.n_tokens]]

    def prefill(self, messages: Sequence[Mapping[str, str]]) -> float:
        """Put a conversation prefix (e.g. just the system message) in the cache; seconds taken."""
        text = self.tokenizer.apply_chat_template(
            [dict(message) for message in messages], tokenize=False, add_generation_prompt=False
        )
        tokens = list(self.tokenizer.encode(text, add_special_tokens=False))
        start = time.perf_counter()
        keep = _common_prefix(self._cached(), tokens)
        self.llm.n_tokens = keep
        if keep < len(tokens):
            self.llm.eval(tokens[keep:])
        return time.perf_counter() - start

    def reset(self) -> None:
        """Forget the cached prefix."""
        self.llm.reset()

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
            self.reset()
            raise

    def _generate(
        self, prompt: list[int], budget: int, on_token: TokenCallback | None
    ) -> Generation:
        start = time.perf_counter()
        reused = min(_common_prefix(self._cached(), prompt), len(prompt) - 1)
        text = _Text(self.tokenizer, self.stop_strings, on_token)
        tokens: list[int] = []
        stop: StopReason = "max_tokens"
        first_at: float | None = None
        # reset=True is llama-cpp-python's "reuse the longest cached prefix" path.
        stream = self.llm.generate(prompt, top_k=1, temp=0.0, repeat_penalty=1.0, reset=True)
        try:
            for token in stream:
                if first_at is None:
                    first_at = time.perf_counter()
                reason = self._accept(int(token), tokens, text, budget)
                if reason is not None:
                    stop = reason
                    break
        finally:
            stream.close()
        reply = text.finish()
        end = time.perf_counter()
        first_at = end if first_at is None else first_at
        return Generation(
            reply,
            seconds=end - start,
            prompt_tokens=len(prompt),
            generated_tokens=len(tokens),  # a stop token included
            prefill_seconds=first_at - start,
            reused_tokens=reused,
            tokens=tuple(tokens),
            stop=stop,
            forward_passes=len(tokens),
        )

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
