"""The training mix: which token sequences a run trains on, and how their loss is weighed.

A chat of the dataset can be trained whole (every assistant turn a target) or cut at each
tool call: one short example per calling turn, ending with the code line that makes the
first tool call (its arguments included), the loss on that turn alone. That is the
decision the model must get right, without the rest of the code, the tool output and the
answer prose that make up most of a chat's tokens (a causal model trains on a prefix as
well as on the whole: nothing after the cut is taught either way).
`TrainConfig.call_examples` picks full chats, call examples, or both (`chat_share`: how many
chats are also trained whole); `loss_weighting` and `call_weight` spread each example's loss
over its assistant turns, and `name_weight` within a calling turn onto its first tool name;
each example carries the tool its (last) call starts with, for `TrainConfig.balance`.
`later_call_repeat` repeats the call examples of calling turns after the first (the next
call of a workflow, after a tool response: otherwise 5% of the default mix, 3.3% of a
balanced epoch). `request_dropout` drops a seeded share of each call example's request words
(`punie_train.request_dropout`); `path_swap` names other files of the same category in a
seeded share of the first-call examples (`punie_train.path_swap`), `path_words` says their
files in words (`punie_train.path_words`); whole chats keep their requests as written.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Mapping, Sequence
from typing import Any, cast

import attrs
import numpy as np

from punie_eval.first_call import NO_TOOL, first_tool
from punie_tools.callsite import char_offset, tool_call_nodes
from punie_tools.codemode import parse_tool_call
from punie_train.config import TrainConfig
from punie_train.dataset import (
    TOOL_CALL_MARK,
    TokenizedExample,
    TokenizedSplit,
    TurnWeighting,
    split_of,
    tokenize_chat,
    truncate,
)
from punie_train.path_swap import PathPools, path_pools, with_paths_swapped
from punie_train.path_words import with_paths_in_words
from punie_train.request_dropout import with_request_dropped

Chat = Sequence[Mapping[str, str]]


def weighting(config: TrainConfig, tool_names: Collection[str] = ()) -> TurnWeighting:
    """The loss weighting the config asks for (tool names: where `name_weight` applies)."""
    names = frozenset(tool_names)
    return TurnWeighting(
        per_turn=config.loss_weighting == "turn",
        call_weight=config.call_weight,
        name_weight=config.name_weight,
        name_span=(lambda reply: call_name_span(reply, names)) if names else None,
    )


def call_cuts(messages: Chat) -> list[tuple[int, int]]:
    """(message index, assistant turn index) of every assistant turn that makes a tool call."""
    cuts = []
    turn = 0
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        if TOOL_CALL_MARK in message["content"]:
            cuts.append((index, turn))
        turn += 1
    return cuts


def chat_key(messages: Chat, tool_names: Collection[str]) -> str:
    """The first tool the chat's first calling turn uses (``NO_TOOL`` for a chat without)."""
    cuts = call_cuts(messages)
    return first_tool(messages[cuts[0][0]]["content"], tool_names) if cuts else NO_TOOL


def _first_call(reply: str, tool_names: Collection[str]) -> tuple[int, str, ast.Call] | None:
    """Where the reply's code starts, the code, and its first call of a tool (by position)."""
    call = parse_tool_call(reply)
    code = call.parameters.get("code") if call is not None else None
    start = reply.find(code) if code else -1
    if not code or start < 0:
        return None
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    calls = tool_call_nodes(tree, tool_names)
    return (start, code, calls[0]) if calls else None


def call_line_end(reply: str, tool_names: Collection[str]) -> int | None:
    """Offset in `reply` just past the code line where its first tool call ends; None if none."""
    found = _first_call(reply, tool_names)
    if found is None:
        return None
    start, code, first = found
    lines = code.split("\n")
    end_line = first.end_lineno or first.lineno
    return start + sum(len(line) + 1 for line in lines[: end_line - 1]) + len(lines[end_line - 1])


def call_name_span(reply: str, tool_names: Collection[str]) -> tuple[int, int] | None:
    """Character span in `reply` of the name of its first tool call; None if none."""
    found = _first_call(reply, tool_names)
    if found is None:
        return None
    start, code, first = found
    name = first.func
    begin = start + char_offset(code, name.lineno, name.col_offset)
    return begin, begin + len(cast(ast.Name, name).id)


def cut_example(
    messages: Chat,
    index: int,
    turn: int,
    tokenizer: Any,
    config: TrainConfig,
    tool_names: Collection[str],
) -> TokenizedExample:
    """The chat up to assistant message `index`, that reply cut after its first tool call.

    With ``call_cut: turn`` the reply stays whole (its end-of-turn token included).
    """
    reply = messages[index]["content"]
    end = call_line_end(reply, tool_names) if config.call_cut == "line" else None
    head = [*messages[:index], {"role": "assistant", "content": reply[:end]}]
    example = tokenize_chat(
        head if end is not None else messages[: index + 1],
        tokenizer,
        mask_prompt=config.mask_prompt,
        trained_turns={turn},
        weighting=weighting(config, tool_names),
        key=first_tool(reply, tool_names),
    )
    if end is None:
        return example
    # Drop the end-of-turn token the template put after the cut reply: the reply goes on.
    last = int(np.nonzero(example.mask)[0][-1])
    return truncate(example, last)


@attrs.frozen(eq=False)
class PathSwap:
    """What `path_swap` draws from: the file pools, each tool's category, the generator."""

    pools: PathPools
    categories: Mapping[str, str]
    rng: np.random.Generator


def chat_examples(
    messages: Chat,
    tokenizer: Any,
    config: TrainConfig,
    tool_names: Collection[str],
    *,
    whole: bool = True,
    rng: np.random.Generator | None = None,
    swap: PathSwap | None = None,
    spoken: np.random.Generator | None = None,
) -> list[TokenizedExample]:
    """The examples one chat gives under the config's mix (before truncation).

    `whole=False` leaves out the whole chat when it has call examples (``chat_share``); `rng`
    draws the words `request_dropout` drops from each call example's request (none without);
    `swap` draws which first-call examples name other files (``path_swap``; none without);
    `spoken` which name their files in words, and the words (``path_words``; none without).
    """
    spread = weighting(config, tool_names)
    cuts = call_cuts(messages) if config.call_examples != "none" else []
    examples = []
    if (config.call_examples != "only" and whole) or not cuts:
        examples.append(
            tokenize_chat(
                messages,
                tokenizer,
                mask_prompt=config.mask_prompt,
                weighting=spread,
                key=chat_key(messages, tool_names),
            )
        )
    for position, (index, turn) in enumerate(cuts):
        asked = messages
        if swap is not None and position == 0 and swap.rng.random() < config.path_swap:
            category = swap.categories.get(first_tool(messages[index]["content"], tool_names))
            if category is not None:
                asked = with_paths_swapped(asked, index, category, swap.pools, swap.rng)
        if spoken is not None and position == 0 and spoken.random() < config.path_words:
            asked = with_paths_in_words(asked, index, spoken)
        if rng is not None and config.request_dropout > 0.0:
            asked = with_request_dropped(asked, index, config.request_dropout, rng)
        example = cut_example(asked, index, turn, tokenizer, config, tool_names)
        examples += [example] * (config.later_call_repeat if position else 1)
    return examples


def training_split(
    chats: Sequence[Chat],
    tokenizer: Any,
    config: TrainConfig,
    tool_names: Collection[str],
    *,
    source: str = "train",
    categories: Mapping[str, str] | None = None,
) -> TokenizedSplit:
    """Every chat's examples under the config's mix, truncated to `max_seq_length`.

    Under ``call_examples: add`` a seeded `chat_share` of the chats is also trained whole;
    `request_dropout` draws from one generator seeded by the config, chat by chat in order;
    `path_swap` from another, with the files the chats' requests name pooled by the category
    `categories` gives each first tool (required for a `path_swap` above 0); `path_words` from
    a third.
    """
    kept = whole_chats(len(chats), config.chat_share, config.seed)
    whole = {id(chats[index]) for index in kept}
    rng = np.random.default_rng([config.seed, 17])
    swap = None
    if config.path_swap > 0.0:
        if categories is None:
            raise ValueError("path_swap needs the tools' categories")
        swap = PathSwap(
            path_pools(chats, categories, tool_names),
            categories,
            np.random.default_rng([config.seed, 23]),
        )
    spoken = np.random.default_rng([config.seed, 29]) if config.path_words > 0.0 else None
    return split_of(
        chats,
        lambda messages: chat_examples(
            messages,
            tokenizer,
            config,
            tool_names,
            whole=id(messages) in whole,
            rng=rng,
            swap=swap,
            spoken=spoken,
        ),
        max_seq_length=config.max_seq_length,
        source=source,
    )


def whole_chats(count: int, share: float, seed: int) -> np.ndarray:
    """Indices of the `share` of `count` chats trained whole (a seeded choice; all at 1.0)."""
    if share >= 1.0:
        return np.arange(count)
    chosen = np.random.default_rng([seed, 11]).permutation(count)
    return np.sort(chosen[: round(share * count)])


def key_counts(split: TokenizedSplit) -> dict[str, int]:
    """How many examples teach each tool (for the console and the log)."""
    counts: dict[str, int] = {}
    for example in split:
        counts[example.key] = counts.get(example.key, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
