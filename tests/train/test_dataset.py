"""Tokenizing chats, the assistant-turn loss mask, update groups and batch layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from punie_datagen.jsonl import DatasetFileError, read_chat_jsonl
from punie_train.dataset import (
    MIN_SHARED_PREFIX,
    DatasetError,
    TokenizedExample,
    load_split,
    make_batch,
    split_batches,
    tokenize_chat,
    tokenize_split,
)
from punie_train.sampling import epoch_groups, update_group
from tests.train.tiny import build_tokenizer, chats


@pytest.fixture(name="tokenizer", scope="module")
def fixture_tokenizer() -> Any:
    """The tiny ChatML tokenizer wrapped as mlx-lm wraps tokenizers."""
    from mlx_lm.tokenizer_utils import TokenizerWrapper

    return TokenizerWrapper(build_tokenizer())


def masked_spans(example: TokenizedExample) -> list[list[int]]:
    """The runs of consecutive masked tokens."""
    spans: list[list[int]] = []
    previous = False
    for token, trained in zip(example.tokens.tolist(), example.mask.tolist(), strict=True):
        if trained and not previous:
            spans.append([])
        if trained:
            spans[-1].append(token)
        previous = trained
    return spans


def test_mask_covers_exactly_the_assistant_turns(tokenizer: Any) -> None:
    """Decoded masked spans are the assistant contents, each with its <|im_end|>, in order."""
    messages = chats(1)[0] + [
        {"role": "user", "content": "And the git log?"},
        {"role": "assistant", "content": "Sure.\n\nLet me check."},
    ]
    example = tokenize_chat(messages, tokenizer)
    decoded = [tokenizer.decode(span) for span in masked_spans(example)]
    expected = [m["content"] + "<|im_end|>" for m in messages if m["role"] == "assistant"]
    assert decoded == expected
    assert tokenizer.decode(example.tokens.tolist()) == tokenizer.apply_chat_template(
        messages, tokenize=False
    )


def test_mask_excludes_headers_and_other_roles(tokenizer: Any) -> None:
    """No masked token decodes to a role header or to user/system/tool text."""
    messages = chats(1)[0]
    example = tokenize_chat(messages, tokenizer)
    unmasked = tokenizer.decode(example.tokens[~example.mask].tolist())
    assert "<|im_start|>assistant\n" in unmasked
    assert "<tool_response>" in unmasked
    assert messages[0]["content"] in unmasked


def test_mask_prompt_off_trains_every_token(tokenizer: Any) -> None:
    """Without prompt masking every token is a target."""
    example = tokenize_chat(chats(1)[0], tokenizer, mask_prompt=False)
    assert example.mask.all()


def test_bad_jsonl_line_names_file_and_line(tmp_path: Path) -> None:
    """A line that is not JSON is reported as file:line."""
    path = tmp_path / "train.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n{oops\n')
    with pytest.raises(DatasetFileError, match=r"train\.jsonl:2: not JSON"):
        read_chat_jsonl(path)


def test_message_without_content_is_an_error(tmp_path: Path) -> None:
    """A message without string role/content is reported with its index."""
    path = tmp_path / "valid.jsonl"
    path.write_text('{"messages": [{"role": "user"}]}\n')
    with pytest.raises(DatasetFileError, match=r"valid\.jsonl:1: message 0"):
        read_chat_jsonl(path)


def test_load_split_reads_mlx_lm_chat_files(tmp_path: Path, tokenizer: Any) -> None:
    """load_split tokenizes every line of an mlx-lm chat JSONL file."""
    import json

    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps({"messages": c}) + "\n" for c in chats(5)))
    split = load_split(path, tokenizer, max_seq_length=2048)
    assert len(split) == 5 and split.truncated == 0


def test_long_examples_truncated_and_empty_dropped(tokenizer: Any) -> None:
    """Truncation keeps max_seq_length tokens; an example left without targets is dropped."""
    no_assistant = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    limit = min(len(e) for e in tokenize_split(chats(2), tokenizer, max_seq_length=4096)) - 2
    split = tokenize_split([*chats(2), no_assistant], tokenizer, max_seq_length=limit)
    assert (split.truncated, split.dropped, len(split)) == (2, 1, 2)
    assert [len(e) for e in split] == [limit, limit]


@given(
    lengths=st.lists(st.integers(1, 500), min_size=1, max_size=80),
    group=st.integers(1, 8),
    seed=st.integers(0, 5),
    epoch=st.integers(0, 3),
)
def test_epoch_groups_use_each_example_at_most_once(
    lengths: list[int], group: int, seed: int, epoch: int
) -> None:
    """An epoch's groups are disjoint, full-sized and leave fewer than a group unused."""
    if len(lengths) < group:
        with pytest.raises(DatasetError):
            epoch_groups(np.array(lengths), group, seed, epoch)
        return
    groups = epoch_groups(np.array(lengths), group, seed, epoch)
    used = np.concatenate(groups)
    assert all(len(g) == group for g in groups)
    assert len(set(used.tolist())) == len(used) == len(lengths) // group * group


def test_update_stream_is_deterministic() -> None:
    """The same seed and update number give the same group, a fresh cache notwithstanding."""
    lengths = np.arange(50)
    first = [update_group(lengths, 4, 3, u, {}).tolist() for u in range(30)]
    cache: dict[int, list[np.ndarray]] = {}
    second = [update_group(lengths, 4, 3, u, cache).tolist() for u in range(30)]
    assert first == second
    assert first != [update_group(lengths, 4, 4, u, {}).tolist() for u in range(30)]


def random_example(draw: Any, shared: np.ndarray) -> TokenizedExample:
    """An example starting with `shared` then random tokens, with a random non-empty mask."""
    tail = np.array(draw(st.lists(st.integers(3, 99), min_size=2, max_size=30)), dtype=np.int32)
    tokens = np.concatenate([shared, tail]).astype(np.int32)
    mask = np.array(draw(st.lists(st.booleans(), min_size=len(tokens), max_size=len(tokens))))
    mask[-1] = True
    return TokenizedExample(tokens, mask)


@st.composite
def example_groups(draw: Any) -> list[TokenizedExample]:
    """Groups of examples that may share a prefix."""
    shared = np.array(draw(st.lists(st.integers(3, 99), max_size=40)), dtype=np.int32)
    return [random_example(draw, shared) for _ in range(draw(st.integers(1, 5)))]


@settings(max_examples=60)
@given(examples=example_groups(), share=st.booleans())
def test_batch_targets_follow_their_positions(
    examples: list[TokenizedExample], share: bool
) -> None:
    """Each target is the token after its position; prefix + suffix rebuilds every example."""
    batch = make_batch(examples, len(examples), share_prefix=share)
    flat = np.concatenate(batch.suffixes)
    assert (flat[batch.positions + 1] == batch.targets).all()
    assert len(batch.targets) == sum(e.n_trained for e in examples)
    assert np.isclose(batch.weights.sum(), 1.0)
    for suffix, example in zip(batch.suffixes, examples, strict=True):
        assert (np.concatenate([batch.prefix, suffix]) == example.tokens).all()


def test_shared_system_prompt_becomes_the_prefix(tokenizer: Any) -> None:
    """Chats with one system prompt share at least that prompt's tokens."""
    split = tokenize_split(chats(4), tokenizer, max_seq_length=2048)
    batch = make_batch(list(split), 4)
    assert len(batch.prefix) >= MIN_SHARED_PREFIX
    assert chats(1)[0][0]["content"] in tokenizer.decode(batch.prefix.tolist())


def test_split_batches_respects_the_budget(tokenizer: Any) -> None:
    """An update too big for one pass is split; weights still sum to one over the update."""
    split = tokenize_split(chats(8), tokenizer, max_seq_length=2048)
    batches = split_batches(list(split), 8, token_budget=300)
    assert len(batches) > 1
    assert np.isclose(sum(b.weights.sum() for b in batches), 1.0)
    assert sum(b.examples for b in batches) == 8
