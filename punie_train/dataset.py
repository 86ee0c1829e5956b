"""Chat JSONL to tokens, the loss mask over every assistant turn, and update-sized batches.

`load_split(path, tokenizer, ...)` reads an mlx-lm chat file (`{"messages": [...]}` per line)
and tokenizes each example with the tokenizer's chat template. The mask is 1 exactly on the
tokens of each assistant turn's content plus its end-of-turn token (`<|im_end|>` for ChatML),
and 0 on system, user and tool-response turns and on the `<|im_start|>assistant\\n` header:
unlike mlx-lm's `--mask-prompt`, which trains only the last message, a tool call followed by
its response and a summary teaches both. Each turn is tokenized on its own, as the model sees
it at inference (the prompt ends at the header; the reply's tokens start fresh).

`make_batch(examples, ...)` lays out one optimizer update's examples for the loss in
`punie_train.forward`: the longest token prefix they share (the system prompt, in practice) is
computed once, and the rest of each example runs on its own, so nothing is padded.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from punie_datagen.jsonl import read_chat_jsonl

TOOL_CALL_MARK = "<tool_call>"
"""An assistant turn containing this makes a tool call."""
MIN_SHARED_PREFIX = 16
"""Shorter common prefixes are not worth a separate pass."""


class DatasetError(ValueError):
    """A data file or example that cannot be trained on; the message says where and why."""


@attrs.frozen(eq=False)
class TokenizedExample:
    """One chat as token ids with its loss mask (1 where a token is a training target)."""

    tokens: np.ndarray
    mask: np.ndarray
    weights: np.ndarray | None = None
    """Per-token loss weights summing to 1 over the targets; None: every target alike."""
    key: str = ""
    """The tool decision the example teaches (for balanced sampling); "" when not known."""

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def n_trained(self) -> int:
        """How many tokens are loss targets (the first token never is: nothing predicts it)."""
        return int(self.mask[1:].sum())

    @property
    def first_target(self) -> int:
        """Index of the first target token."""
        return int(np.argmax(self.mask[1:])) + 1


@attrs.frozen
class TokenizedSplit:
    """A tokenized split and what was dropped or cut on the way."""

    examples: tuple[TokenizedExample, ...]
    truncated: int = 0
    dropped: int = 0

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> TokenizedExample:
        return self.examples[index]

    def __iter__(self) -> Iterator[TokenizedExample]:
        return iter(self.examples)

    @property
    def lengths(self) -> np.ndarray:
        """Token count of each example."""
        return np.array([len(example) for example in self.examples], dtype=np.int64)


def _end_of_turn_strings(tokenizer: Any) -> tuple[str, ...]:
    ids = set(getattr(tokenizer, "eos_token_ids", None) or ()) | {tokenizer.eos_token_id}
    strings = {tokenizer.convert_ids_to_tokens(int(i)) for i in ids if i is not None}
    return tuple(sorted(s for s in strings if s))


def _render(tokenizer: Any, messages: Sequence[Mapping[str, str]], generation: bool) -> str:
    return tokenizer.apply_chat_template(
        list(messages), tokenize=False, add_generation_prompt=generation
    )


def assistant_spans(
    messages: Sequence[Mapping[str, str]], tokenizer: Any
) -> tuple[str, list[tuple[int, int]]]:
    """The rendered chat and the character span of each assistant reply plus end-of-turn token."""
    full = _render(tokenizer, messages, False)
    ends = _end_of_turn_strings(tokenizer)
    spans = []
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        head = _render(tokenizer, messages[:index], True)
        turn = _render(tokenizer, messages[: index + 1], False)
        if not (full.startswith(head) and full.startswith(turn) and turn.startswith(head)):
            raise DatasetError(
                f"the chat template does not render message {index} as a prefix of the chat; "
                "cannot find the assistant turn's tokens"
            )
        tail = turn[len(head) :]
        cut = max((tail.rfind(end) + len(end) for end in ends if end in tail), default=len(tail))
        spans.append((len(head), len(head) + cut))
    return full, spans


@attrs.frozen
class TurnWeighting:
    """How an example's loss is spread over its assistant turns.

    ``per_turn`` False: every target token weighs the same (the mean token loss). True: each
    trained turn weighs the same whatever its length (a 5-token call as much as a 150-token
    answer). ``call_weight`` multiplies the turns that make a tool call.
    """

    per_turn: bool = False
    call_weight: float = 1.0
    name_weight: float = 1.0
    """How much more each token of a calling turn's first tool name weighs than the turn's
    other tokens (the turn's total stays what `per_turn` and `call_weight` give it)."""
    name_span: Callable[[str], tuple[int, int] | None] | None = None
    """Where a reply's first tool name is (character offsets); needed for `name_weight`."""

    @property
    def uniform(self) -> bool:
        """Whether this is the plain mean over target tokens."""
        return not self.per_turn and self.call_weight == 1.0 and not self.weighs_names

    @property
    def weighs_names(self) -> bool:
        """Whether tool-name tokens get their own weight."""
        return self.name_weight != 1.0 and self.name_span is not None


def tokenize_chat(
    messages: Sequence[Mapping[str, str]],
    tokenizer: Any,
    *,
    mask_prompt: bool = True,
    trained_turns: Collection[int] | None = None,
    weighting: TurnWeighting | None = None,
    key: str = "",
) -> TokenizedExample:
    """Tokens of a chat (its template applied) and the mask of its assistant turns' tokens.

    ``trained_turns`` (indices among the assistant turns) limits the targets to those turns;
    ``weighting`` spreads the loss over them (default: every target token alike).
    """
    full, spans = assistant_spans(messages, tokenizer)
    replies = [m["content"] for m in messages if m["role"] == "assistant"]
    pieces: list[tuple[str, int]] = []  # (text, assistant turn index or -1)
    position = 0
    for turn, (start, end) in enumerate(spans):
        trained = trained_turns is None or turn in trained_turns
        pieces += [(full[position:start], -1), (full[start:end], turn if trained else -1)]
        position = end
    pieces.append((full[position:], -1))
    tokens: list[int] = []
    turns: list[int] = []
    names: list[bool] = []
    for text, turn in pieces:
        if text:
            ids, name = _encode(tokenizer, text, replies[turn] if turn >= 0 else "", weighting)
            tokens += ids
            turns += [turn] * len(ids)
            names += name
    turn_of = np.array(turns, dtype=np.int32)
    mask = (turn_of >= 0) | (not mask_prompt)
    weights = None
    if weighting is not None and not weighting.uniform and mask_prompt:
        weights = _turn_weights(turn_of, np.array(names, dtype=bool), replies, weighting)
    return TokenizedExample(np.array(tokens, dtype=np.int32), mask, weights, key)


def _encode(
    tokenizer: Any, text: str, reply: str, weighting: TurnWeighting | None
) -> tuple[list[int], list[bool]]:
    """The ids of one piece of the chat, and which of them spell the reply's first tool name."""
    ids = tokenizer.encode(text, add_special_tokens=False)
    span = None
    if weighting is not None and weighting.weighs_names and reply and TOOL_CALL_MARK in reply:
        start = text.find(reply)
        found = weighting.name_span(reply) if start >= 0 and weighting.name_span else None
        span = (start + found[0], start + found[1]) if found else None
    if span is None:
        return ids, [False] * len(ids)
    fast = getattr(tokenizer, "_tokenizer", tokenizer)
    encoded = fast(text, add_special_tokens=False, return_offsets_mapping=True)
    if list(encoded["input_ids"]) != list(ids):  # offsets of another tokenization: no weighting
        return ids, [False] * len(ids)
    return ids, [a < span[1] and b > span[0] for a, b in encoded["offset_mapping"]]


def _turn_weights(
    turn_of: np.ndarray, is_name: np.ndarray, replies: Sequence[str], weighting: TurnWeighting
) -> np.ndarray | None:
    weights = np.zeros(len(turn_of), dtype=np.float64)
    targets = turn_of.copy()
    targets[:1] = -1  # nothing predicts the first token
    for turn in np.unique(targets[targets >= 0]):
        where = targets == turn
        weight = 1.0 / int(where.sum()) if weighting.per_turn else 1.0
        if TOOL_CALL_MARK in replies[int(turn)]:
            weight *= weighting.call_weight
        share = np.where(is_name[where], weighting.name_weight, 1.0)
        weights[where] = weight * share * (len(share) / share.sum())
    total = weights.sum()
    return (weights / total).astype(np.float32) if total > 0 else None


def tokenize_split(
    chats: Sequence[Sequence[Mapping[str, str]]],
    tokenizer: Any,
    *,
    max_seq_length: int,
    mask_prompt: bool = True,
    source: str = "data",
) -> TokenizedSplit:
    """Tokenize every chat; truncate long ones to `max_seq_length`, drop ones with no target."""
    return split_of(
        chats,
        lambda messages: [tokenize_chat(messages, tokenizer, mask_prompt=mask_prompt)],
        max_seq_length=max_seq_length,
        source=source,
    )


def split_of(
    chats: Sequence[Sequence[Mapping[str, str]]],
    examples_of: Callable[[Sequence[Mapping[str, str]]], Sequence[TokenizedExample]],
    *,
    max_seq_length: int,
    source: str,
) -> TokenizedSplit:
    """The examples `examples_of` makes from each chat, truncated, those with no target dropped.

    A `DatasetError` from a chat is re-raised naming the source and the chat's number.
    """
    examples = []
    truncated = dropped = 0
    for number, messages in enumerate(chats, start=1):
        try:
            made = examples_of(messages)
        except DatasetError as error:
            raise DatasetError(f"{source}: example {number}: {error}") from None
        for example in made:
            if len(example) > max_seq_length:
                truncated += 1
                example = truncate(example, max_seq_length)
            if example.n_trained == 0:
                dropped += 1
                continue
            examples.append(example)
    return TokenizedSplit(tuple(examples), truncated, dropped)


def truncate(example: TokenizedExample, length: int) -> TokenizedExample:
    """The first ``length`` tokens of an example (weights renormalised over what is left)."""
    weights = example.weights
    if weights is not None:
        kept = weights[:length].astype(np.float64)
        kept[:1] = 0.0
        total = kept.sum()
        weights = (kept / total).astype(np.float32) if total > 0 else None
    return TokenizedExample(example.tokens[:length], example.mask[:length], weights, example.key)


def load_split(
    path: Path, tokenizer: Any, *, max_seq_length: int, mask_prompt: bool = True
) -> TokenizedSplit:
    """Read and tokenize one mlx-lm chat JSONL file (`train.jsonl`, `valid.jsonl`)."""
    return tokenize_split(
        read_chat_jsonl(path),
        tokenizer,
        max_seq_length=max_seq_length,
        mask_prompt=mask_prompt,
        source=str(path),
    )


@attrs.frozen(eq=False)
class Batch:
    """One loss computation: a shared token prefix, each example's remaining tokens, targets.

    Example `i` is `prefix + suffixes[i]`. Target `k` is predicted from the hidden state at
    `positions[k]` of the suffixes' hidden states laid end to end, and weighs `weights[k]` =
    1 / (that example's target count x examples in the update): the loss is the mean over the
    update's examples of each example's mean token loss, however they are split into batches.
    """

    prefix: np.ndarray
    suffixes: tuple[np.ndarray, ...]
    positions: np.ndarray
    targets: np.ndarray
    weights: np.ndarray

    @property
    def examples(self) -> int:
        """How many examples the batch holds."""
        return len(self.suffixes)

    @property
    def tokens(self) -> int:
        """Tokens the forward pass runs (the prefix once)."""
        return len(self.prefix) + sum(len(s) for s in self.suffixes)

    @property
    def trained_tokens(self) -> int:
        """How many target tokens the batch has."""
        return len(self.targets)


def shared_prefix_length(examples: Sequence[TokenizedExample]) -> int:
    """Tokens all examples share at the start and before any target (0 if too few to matter)."""
    if len(examples) < 2:
        return 0
    shortest = min(min(len(e) for e in examples), min(e.first_target for e in examples)) - 1
    first = examples[0].tokens[:shortest]
    length = shortest
    for example in examples[1:]:
        differs = np.nonzero(example.tokens[:length] != first[:length])[0]
        if len(differs):
            length = int(differs[0])
    return length if length >= MIN_SHARED_PREFIX else 0


def make_batch(
    examples: Sequence[TokenizedExample], update_size: int, *, share_prefix: bool = True
) -> Batch:
    """Lay out `examples` (part of an update of `update_size` examples) for one loss call."""
    prefix_length = shared_prefix_length(examples) if share_prefix else 0
    positions, targets, weights = [], [], []
    offset = 0
    for example in examples:
        target_index = np.nonzero(example.mask[1:])[0] + 1
        positions.append(offset + target_index - 1 - prefix_length)
        targets.append(example.tokens[target_index])
        if example.weights is None:
            weights.append(np.full(len(target_index), 1.0 / (len(target_index) * update_size)))
        else:
            weights.append(example.weights[target_index] / update_size)
        offset += len(example) - prefix_length
    return Batch(
        prefix=examples[0].tokens[:prefix_length].copy(),
        suffixes=tuple(e.tokens[prefix_length:] for e in examples),
        positions=np.concatenate(positions).astype(np.int32),
        targets=np.concatenate(targets).astype(np.int32),
        weights=np.concatenate(weights).astype(np.float32),
    )


def split_batches(
    examples: Sequence[TokenizedExample],
    update_size: int,
    *,
    token_budget: int,
    share_prefix: bool = True,
) -> list[Batch]:
    """An update's examples as few loss calls as keep each under `token_budget` tokens.

    The budget bounds the activations kept for the backward pass; examples are taken in
    length order so that the ones sharing a call are alike.
    """
    batches: list[Batch] = []
    current: list[TokenizedExample] = []
    for example in sorted(examples, key=len):
        trial = [*current, example]
        prefix = shared_prefix_length(trial) if share_prefix else 0
        if current and prefix + sum(len(e) - prefix for e in trial) > token_budget:
            batches.append(make_batch(current, update_size, share_prefix=share_prefix))
            trial = [example]
        current = trial
    batches.append(make_batch(current, update_size, share_prefix=share_prefix))
    return batches
