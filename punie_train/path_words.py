"""Files named in words: a call example whose request says "the pricing module", not the path.

People name files the way they think of them ("the order tests", "the README", "the billing
services"); the call still needs the path. The templates write most paths out, so a model
trained on them copies a path well and guesses one badly (`read_file('README')`,
`pytest_run("tests")`). Rewriting a seeded share of the first-call examples' request paths
into words built from the path itself (its name, its folder, the `test_` prefix), while the
call keeps the path, teaches the step from the words to the workspace's file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath

import numpy as np

from punie_train.path_swap import PATH, file_paths, first_call_request

Chat = Sequence[Mapping[str, str]]


def path_phrases(path: str) -> list[str]:
    """Ways to name `path` in words, built from its own parts (none for a bare ``__init__``)."""
    pure = PurePosixPath(path)
    words = pure.stem.replace("_", " ").replace("-", " ").strip()
    folder = pure.parent.name
    if pure.suffix != ".py":
        if pure.stem.isupper():  # README, TODO, CHANGELOG
            return [f"the {pure.stem}", pure.stem]
        return [f"the {words} file", f"{folder}/{pure.stem}" if folder else f"the {words} file"]
    if pure.stem == "__init__":
        return [f"the {folder} package's __init__", f"{folder}'s __init__"] if folder else []
    if pure.stem.startswith("test_") and words[5:]:
        subject = words[5:]
        return [f"the {subject} tests", f"the tests for {subject}", f"the {subject} test module"]
    forms = [f"the {words} module", f"{folder}/{pure.stem}" if folder else pure.stem]
    if folder:
        forms.append(f"the {words} code in {folder}")
    return forms


def words_for_paths(request: str, reply: str, rng: np.random.Generator) -> str:
    """`request` with each path the reply also has said in words (one draw per path).

    A path the reply does not copy stays: the words would name a file nothing checks.
    """
    kept = set(file_paths(reply))
    spoken: dict[str, str] = {}
    for path in file_paths(request):
        phrases = path_phrases(path) if path in kept else []
        if phrases:
            spoken[path] = phrases[int(rng.integers(len(phrases)))]
    if not spoken:
        return request
    return PATH.sub(lambda match: spoken.get(match.group(0), match.group(0)), request)


def with_paths_in_words(
    messages: Chat, index: int, rng: np.random.Generator
) -> list[dict[str, str]]:
    """A copy of the chat whose request names the files of calling turn `index` in words.

    Only a first calling turn (nothing but the system prompt and the request before it).
    """
    chat = [dict(message) for message in messages]
    first = first_call_request(chat, index)
    if first is None:
        return chat
    chat[first]["content"] = words_for_paths(chat[first]["content"], chat[index]["content"], rng)
    return chat
