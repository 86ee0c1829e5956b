"""Counting an example's tokens with the embedded model's tokenizer, when it is available.

The tokenizer comes from ``punie_train.base_model``; until that offers a loader (or when
the model cannot be loaded) the token check is skipped with a warning. ``set_loader``
swaps the loader (tests, other models).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

TokenCounter = Callable[[Sequence[Mapping[str, str]]], int]
Loader = Callable[[], TokenCounter]


class TokenizerUnavailable(RuntimeError):
    """The embedded tokenizer cannot be loaded; the message says why."""


def chatml(messages: Sequence[Mapping[str, str]]) -> str:
    """The ChatML text of a conversation (SmolLM2's chat format)."""
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)


def _embedded_counter() -> TokenCounter:
    try:
        from punie_train import base_model
    except ImportError as exc:
        raise TokenizerUnavailable(f"punie_train.base_model cannot be imported: {exc}") from None
    load = getattr(base_model, "load_tokenizer", None)
    if callable(load):
        tokenizer = load()

        def count_chat(messages: Sequence[Mapping[str, str]]) -> int:
            ids: Any = tokenizer.apply_chat_template([dict(m) for m in messages], tokenize=True)
            if isinstance(ids, Mapping):
                ids = ids["input_ids"]
            return len(ids)

        return count_chat
    count_tokens = getattr(base_model, "count_tokens", None)
    if callable(count_tokens):
        return lambda messages: int(count_tokens(chatml(messages)))
    raise TokenizerUnavailable("punie_train.base_model has no load_tokenizer() or count_tokens()")


_loader: Loader = _embedded_counter


def set_loader(loader: Loader) -> Loader:
    """Replace the tokenizer loader; returns the previous one."""
    global _loader
    previous, _loader = _loader, loader
    return previous


def load_counter() -> tuple[TokenCounter | None, str | None]:
    """(counter, None), or (None, why the token check is skipped)."""
    try:
        return _loader(), None
    except TokenizerUnavailable as exc:
        return None, str(exc)
    except Exception as exc:  # a model that fails to load must not stop data generation
        return None, f"the embedded tokenizer failed to load: {type(exc).__name__}: {exc}"
