"""Where the default mix's training tokens are: whole chats, first calls, later calls.

    PYTHONPATH=.:plugins .venv/bin/python results/speed-token-budget/mix_tokens.py

Builds the training mix of `data/phase33` as the trainer does (default config, seed 0) for a
few chat shares, takes one balanced epoch's sampling order, and prints the mean tokens per
sampled example beyond the shared system prompt, split by kind of example. Tokenizes only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from mlx_lm.tokenizer_utils import TokenizerWrapper
from mlx_lm.utils import load_tokenizer

from punie_datagen.jsonl import read_chat_jsonl
from punie_runtime.base_model import BaseModel
from punie_tools.registry import Registry
from punie_train.config import TrainConfig
from punie_train.dataset import shared_prefix_length
from punie_train.mix import training_split
from punie_train.sampling import balanced_order

TRAIN = Path("data/phase33/train.jsonl")
RESPONSE = "<tool_response>"


def main() -> None:
    """Print the token budget of one balanced epoch per chat share."""
    names = [spec.name for spec in Registry.load().tools()]
    tokenizer = load_tokenizer(Path(BaseModel.embedded().resolve()))
    prefix = 0
    chats = read_chat_jsonl(TRAIN)
    print(
        "chat share | examples | tokens beyond the prompt per sampled example: all / "
        "whole chats / first calls / later calls | share of tokens: whole / first / later"
    )
    for share in (0.3, 0.15, 0.05):
        split = training_split(chats, tokenizer, TrainConfig(chat_share=share), names)
        if not prefix:
            prefix = shared_prefix_length(split.examples[:50])
        order = balanced_order([e.key for e in split], 0, 0)
        kinds = np.array([_kind(tokenizer, e.tokens, prefix) for e in split])[order]
        beyond = np.array([len(e) for e in split])[order] - prefix
        parts = [beyond[kinds == k] for k in ("whole", "first", "later")]
        shares = [p.sum() / beyond.sum() for p in parts]
        print(
            f"{share} | {len(split)} | {beyond.mean():.0f} / "
            + " / ".join(f"{p.mean():.0f} (n {len(p)})" for p in parts)
            + " | "
            + " / ".join(f"{s:.0%}" for s in shares)
        )
    print(f"shared system prompt: {prefix} tokens, computed once per update of 8")


def _kind(tokenizer: TokenizerWrapper, tokens: np.ndarray, prefix: int) -> str:
    """whole: a chat trained to its answer; first/later: a call example before/after a response."""
    if "</tool_call>" in tokenizer.decode(tokens[-12:].tolist()):
        return "later" if RESPONSE in tokenizer.decode(tokens[prefix:].tolist()) else "first"
    return "whole"


if __name__ == "__main__":
    main()
