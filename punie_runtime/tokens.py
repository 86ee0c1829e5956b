"""Token counts in the embedded model's tokenizer, without loading the model's weights."""

from __future__ import annotations

from functools import lru_cache

from tokenizers import Tokenizer

from punie_runtime.base_model import converted_model_dir, embedded_gguf_path


@lru_cache(maxsize=1)
def embedded_tokenizer() -> Tokenizer:
    """The embedded model's fast tokenizer (converting the GGUF once if needed)."""
    return Tokenizer.from_file(str(converted_model_dir(embedded_gguf_path()) / "tokenizer.json"))


def count_tokens(text: str) -> int:
    """How many tokens ``text`` is for the embedded model (no special tokens added)."""
    return len(embedded_tokenizer().encode(text, add_special_tokens=False).ids)
