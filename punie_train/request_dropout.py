"""Word dropout on a call example's request: the same decision from fewer of its words.

A call example teaches one request -> tool decision, and a run shows each about once. Models
that learn a choice from one cue word ("test" -> pytest_run) fail on requests phrased another
way; dropping a seeded share of the request's words makes the other cues carry the choice too
(word dropout, as in text-classifier training). Words the reply copies (paths, symbols, line
numbers) always stay, so the call's arguments remain grounded in the request.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence

import numpy as np

_WORD = re.compile(r"\s*\S+")
_REPLY_WORD = re.compile(r"[\w./:-]+")
_EDGES = string.punctuation + "`'\""


def drop_words(text: str, reply: str, share: float, rng: np.random.Generator) -> str:
    """`text` with each word dropped at rate `share`, except those `reply` contains.

    A word is a whitespace-separated run; it stays when, its surrounding punctuation ignored,
    it is one of the reply's words (runs of letters, digits and ``_./:-``). The whitespace
    before a dropped word goes with it. With every word dropped the text stays as it was.
    """
    if share <= 0.0:
        return text
    anchors = {word.strip(_EDGES) for word in _REPLY_WORD.findall(reply)}
    pieces = _WORD.findall(text)
    kept = [
        piece
        for piece in pieces
        if rng.random() >= share or _anchored(piece.strip().strip(_EDGES), anchors)
    ]
    if not kept:
        return text
    out = "".join(kept)
    return out.lstrip() if not text[:1].isspace() else out


def _anchored(word: str, anchors: set[str]) -> bool:
    """Whether a request word must stay: punctuation alone, or a word of the reply."""
    return not word or word in anchors


def with_request_dropped(
    messages: Sequence[Mapping[str, str]],
    index: int,
    share: float,
    rng: np.random.Generator,
) -> list[dict[str, str]]:
    """A copy of the chat whose first user message has words dropped (see `drop_words`).

    The reply that keeps words is assistant message `index` (the calling turn being cut).
    """
    chat = [dict(message) for message in messages]
    first = next((i for i, m in enumerate(chat) if m["role"] == "user"), None)
    if first is not None and first < index:
        chat[first]["content"] = drop_words(
            chat[first]["content"], chat[index]["content"], share, rng
        )
    return chat
