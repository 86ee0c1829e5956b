"""Greedy generation with llama.cpp (`llama-cpp-python`, the optional ``llama`` extra).

`LlamaGenerator` answers like `punie_runtime.generate.Generator`, from a GGUF file instead of
the mlx model: the same chat template and tokenizer (the mlx-lm tokenizer of the embedded
model renders the prompt and decodes the reply, so the text is the same for the same tokens),
the same stops (end of turn, ``</tool_call>``, the token budget, no call started in time),
the KV cache of the longest shared prefix kept between calls, and a `Generation` with the
same timings. llama.cpp reads a Q8_0 model (~145 MB) per token where mlx reads the float32
one (~540 MB), so on a CPU each token costs a fraction; `bench/generate.py --llama` measures
it and checks that the greedy tool calls stay those of the mlx path. Like `Generator`, it
drafts from the prompt: a few tokens that followed the last n-gram earlier in the context are
checked in one pass (tool calls copy paths and names from the request, answers copy the tool
output), and greedy keeps only those it would have picked.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

DEFAULT_CONTEXT = 4096
DEFAULT_DRAFT_TOKENS = 4
"""Prompt-lookup draft tokens checked per decoding pass. On the Q8_0 export of a trained adapter
(24 eval queries, `results/engines-2026-11-27/`): 0.78 s per reply with 4 against 0.97 s with
none and 0.88 s with 8, the same tool calls in all 24."""


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


class _CountedDraft:
    """A llama.cpp draft model that counts its calls: one per decoding pass."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def __call__(self, input_ids: Any, /, **kwargs: Any) -> Any:
        self.calls += 1
        return self.inner(input_ids, **kwargs)


class LlamaGenerator(GreedyChat):
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
        draft_tokens: int = DEFAULT_DRAFT_TOKENS,
        draft_ngram: int = 3,
    ) -> None:
        super().__init__(
            tokenizer, max_tokens=max_tokens, stop_strings=stop_strings, call_within=call_within
        )
        llama_cpp = _llama_module()
        threads = n_threads or os.cpu_count() or 1
        self.path = Path(gguf)
        self._draft: _CountedDraft | None = None
        if draft_tokens > 0:
            # Prompt lookup: up to `draft_tokens` tokens that followed the last n-gram earlier
            # in the context are checked in one pass; greedy keeps only those it would pick.
            speculative = importlib.import_module("llama_cpp.llama_speculative")
            self._draft = _CountedDraft(
                speculative.LlamaPromptLookupDecoding(
                    max_ngram_size=draft_ngram, num_pred_tokens=draft_tokens
                )
            )
        self.llm = llama_cpp.Llama(
            model_path=str(self.path),
            n_ctx=n_ctx,
            n_threads=threads,
            n_threads_batch=threads,
            draft_model=self._draft,
            # Drafting samples from a row per checked token; llama-cpp-python sizes its
            # logits buffer from this flag alone (a batch's rows otherwise: a crash past 512).
            logits_all=self._draft is not None,
            verbose=False,
        )

    def _cached(self) -> list[int]:
        return [int(t) for t in self.llm.input_ids[: self.llm.n_tokens]]

    def prefill(self, messages: Sequence[Mapping[str, str]]) -> float:
        """Put a conversation prefix (e.g. just the system message) in the cache; seconds taken."""
        tokens = self.render(messages, reply=False)
        start = time.perf_counter()
        keep = common_prefix(self._cached(), tokens)
        self.llm.n_tokens = keep
        if keep < len(tokens):
            self.llm.eval(tokens[keep:])
        return time.perf_counter() - start

    def reset(self) -> None:
        """Forget the cached prefix."""
        self.llm.reset()

    def _generate(
        self, prompt: list[int], budget: int, on_token: TokenCallback | None
    ) -> Generation:
        start = time.perf_counter()
        reused = min(common_prefix(self._cached(), prompt), len(prompt) - 1)
        text = ReplyText(self.tokenizer, self.stop_strings, on_token)
        tokens: list[int] = []
        stop: StopReason = "max_tokens"
        first_at: float | None = None
        passes = self._draft.calls if self._draft is not None else 0
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
            forward_passes=self._draft.calls - passes if self._draft is not None else len(tokens),
        )
