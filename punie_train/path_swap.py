"""Path swapping on a call example: the same decision with another file of the same kind.

The templates draw each tool's files from the fixture its plugin runs on, so within a category
a file often goes with one tool (`pages/dashboard.py` only ever asks for check_render_tree).
A model, like the word-count classifier, then learns the file as a cue for the tool: on the
held-out requests with each path swapped for another file of the same category and suffix, both
lose ~7 and ~12 points (`results/path-swap/`). Swapping a seeded share of the call examples'
paths for other files of the same category makes the request's words carry the choice. The
reply's copies of a path are swapped with it, so the call's arguments stay the request's; a
call example ends at its calling turn, so no tool output has to agree with the new file.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import PurePosixPath

import numpy as np

from punie_eval.first_call import first_tool

Chat = Sequence[Mapping[str, str]]
PathPools = Mapping[tuple[str, str, str], tuple[str, ...]]

# A file path: optional folders, a name, one of these suffixes (so `json.dumps` is no path).
SUFFIXES = ("py", "pyi", "md", "rst", "txt", "toml", "cfg", "ini", "json", "yaml", "yml", "html")
PATH = re.compile(
    r"(?<![\w/.-])(?:[\w-]+/)*[\w-]+\.(?:" + "|".join(SUFFIXES) + r")(?![\w/-])(?!\.\w)"
)


def file_paths(text: str) -> list[str]:
    """The relative file paths a text names (``dir/name.ext``), in order, each once."""
    return list(dict.fromkeys(PATH.findall(text)))


def _pool_key(category: str, path: str) -> tuple[str, str, str]:
    pure = PurePosixPath(path)
    return category, str(pure.parent), pure.suffix


def path_pools(
    chats: Sequence[Chat], categories: Mapping[str, str], tool_names: Collection[str]
) -> dict[tuple[str, str, str], tuple[str, ...]]:
    """Every file the chats' first requests name, by (first tool's category, folder, suffix).

    A chat counts when its first assistant turn calls a tool of `categories`; its first user
    message's paths join that category's pool for their folder and suffix.
    """
    pools: dict[tuple[str, str, str], set[str]] = {}
    for chat in chats:
        request = next((m["content"] for m in chat if m["role"] == "user"), None)
        reply = next((m["content"] for m in chat if m["role"] == "assistant"), None)
        if request is None or reply is None:
            continue
        category = categories.get(first_tool(reply, tool_names))
        if category is None:
            continue
        for path in file_paths(request):
            pools.setdefault(_pool_key(category, path), set()).add(path)
    return {key: tuple(sorted(paths)) for key, paths in sorted(pools.items())}


def swap_paths(
    request: str,
    reply: str,
    category: str,
    pools: PathPools,
    rng: np.random.Generator,
) -> tuple[str, str]:
    """`request` and `reply` with each path of the request swapped for another of its pool.

    Each path the request names is replaced, wherever the request or the reply has it as a
    whole path, by a file drawn from the pool of `category` and the path's folder and suffix (a pool
    with no other file leaves the path as it is). Two paths never become the same file.
    """
    mapping: dict[str, str] = {}
    named = file_paths(request)
    for path in named:
        taken = set(mapping.values()) | set(named)
        choices = [p for p in pools.get(_pool_key(category, path), ()) if p not in taken]
        if choices:
            mapping[path] = choices[int(rng.integers(len(choices)))]
    if not mapping:
        return request, reply

    def replace(text: str) -> str:
        return PATH.sub(lambda match: mapping.get(match.group(0), match.group(0)), text)

    return replace(request), replace(reply)


def first_call_request(chat: Chat, index: int) -> int | None:
    """The index of the request that calling turn `index` answers, when it is the chat's first
    call (nothing but the system prompt and user messages before it); None otherwise."""
    first = next((i for i, m in enumerate(chat) if m["role"] == "user"), None)
    if first is None or any(m["role"] not in ("system", "user") for m in chat[:index]):
        return None
    return first


def with_paths_swapped(
    messages: Chat,
    index: int,
    category: str,
    pools: PathPools,
    rng: np.random.Generator,
) -> list[dict[str, str]]:
    """A copy of the chat whose request and calling turn `index` name other files.

    Only a first calling turn is swapped (nothing but the system prompt and the request before
    it): a later one follows tool output that names the original files.
    """
    chat = [dict(message) for message in messages]
    first = first_call_request(chat, index)
    if first is None:
        return chat
    chat[first]["content"], chat[index]["content"] = swap_paths(
        chat[first]["content"], chat[index]["content"], category, pools, rng
    )
    return chat
