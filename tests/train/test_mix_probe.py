"""The training mix (call examples, loss weighting, balanced order) and the tool-choice probe."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from punie_eval.first_call import NO_TOOL, decisions, first_tool
from punie_tools.codemode import format_tool_call
from punie_train.checkpoint import Best
from punie_train.config import LoraParameters, TrainConfig
from punie_train.dataset import TurnWeighting, make_batch, tokenize_chat
from punie_train.mix import (
    call_line_end,
    call_name_span,
    chat_examples,
    training_split,
    whole_chats,
)
from punie_train.probe import ToolProbe, chosen_tool, probe_decisions
from punie_train.sampling import balanced_order
from punie_train.trainer import train
from tests.train.tiny import SYSTEM, TOOLS, build_tokenizer

NAMES = [*TOOLS, "pytest_run"]


def wrapped_tokenizer() -> Any:
    """The tiny ChatML tokenizer wrapped as mlx-lm wraps tokenizers."""
    from mlx_lm.tokenizer_utils import TokenizerWrapper

    return TokenizerWrapper(build_tokenizer())


def two_turn_chat(tool: str = "git_log") -> list[dict[str, str]]:
    """A short call, its response, then a long answer."""
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"run {tool} on src/app.py please"},
        {"role": "assistant", "content": format_tool_call(f'r = {tool}("src/app.py")\nprint(r)')},
        {"role": "user", "content": "<tool_response>ok 3 items</tool_response>"},
        {"role": "assistant", "content": "The file has three items. " * 12},
    ]


def turn_shares(example: Any, tokenizer: Any) -> list[float]:
    """The share of the example's loss that each assistant turn carries (via make_batch)."""
    batch = make_batch([example], 1, share_prefix=False)
    ends = np.isin(example.tokens, tokenizer.convert_tokens_to_ids(["<|im_end|>"]))
    owner = (np.cumsum(ends) - ends)[batch.positions + 1]  # turns ended before each target
    return [float(batch.weights[owner == t].sum()) for t in sorted(set(owner.tolist()))]


def test_token_weighting_gives_each_target_the_same_weight() -> None:
    tokenizer = wrapped_tokenizer()
    example = tokenize_chat(two_turn_chat(), tokenizer, weighting=TurnWeighting())
    assert example.weights is None
    batch = make_batch([example], 1, share_prefix=False)
    assert np.allclose(batch.weights, 1 / example.n_trained)


def test_turn_weighting_gives_each_assistant_turn_half_the_loss() -> None:
    tokenizer = wrapped_tokenizer()
    example = tokenize_chat(two_turn_chat(), tokenizer, weighting=TurnWeighting(per_turn=True))
    call, answer = turn_shares(example, tokenizer)
    assert np.isclose(call, 0.5) and np.isclose(answer, 0.5)
    plain = tokenize_chat(two_turn_chat(), tokenizer)
    assert turn_shares(plain, tokenizer)[0] < 0.3  # per token, the short call weighs little


def test_config_call_weight_multiplies_the_calling_turn() -> None:
    tokenizer = wrapped_tokenizer()
    config = TrainConfig(loss_weighting="turn", call_weight=3.0, call_examples="none")
    (example,) = chat_examples(two_turn_chat(), tokenizer, config, NAMES)
    call, answer = turn_shares(example, tokenizer)
    assert np.isclose(call, 0.75) and np.isclose(answer, 0.25)
    assert example.key == "git_log"


def test_name_weight_multiplies_the_tool_name_tokens_within_the_calling_turn() -> None:
    """name_weight 5: the tokens spelling `ruff_check` weigh 5x the call turn's others; the
    call turn keeps its per-turn share (3 of 4 with call_weight 3) and the answer its own."""
    tokenizer = wrapped_tokenizer()
    base = TrainConfig(loss_weighting="turn", call_weight=3.0, name_weight=1.0)
    chat = two_turn_chat("ruff_check")
    (plain,) = chat_examples(chat, tokenizer, attrs.evolve(base, call_examples="none"), NAMES)
    config = attrs.evolve(base, call_examples="none", name_weight=5.0)
    (named,) = chat_examples(chat, tokenizer, config, NAMES)
    assert np.array_equal(named.tokens, plain.tokens)
    assert np.allclose(turn_shares(named, tokenizer), [0.75, 0.25], atol=1e-6)
    assert plain.weights is not None and named.weights is not None
    ratio = named.weights / np.where(plain.weights > 0, plain.weights, 1)
    # three ratios: the call turn's other tokens (scaled down), the answer's (1), the name's
    low, answer, high = sorted({round(float(r), 5) for r in ratio[plain.weights > 0]})
    assert answer == 1.0 and np.isclose(high / low, 5.0)
    heavy = np.nonzero(np.isclose(ratio, high))[0]
    assert tokenizer.decode(named.tokens[heavy].tolist()).strip() == "ruff_check"


def test_call_name_span_finds_the_first_call_by_position() -> None:
    reply = format_tool_call('x = git_log(".")\nprint(ruff_check("a.py"), x)')
    span = call_name_span(reply, NAMES)
    assert span is not None and reply[span[0] : span[1]] == "git_log"
    assert call_name_span("no call", NAMES) is None


def test_call_examples_end_with_the_first_call_line() -> None:
    tokenizer = wrapped_tokenizer()
    config = TrainConfig(call_examples="only", call_cut="line")
    chat = two_turn_chat("ruff_check")
    (example,) = chat_examples(chat, tokenizer, config, NAMES)
    trained = tokenizer.decode(example.tokens[example.mask].tolist())
    assert trained.endswith('r = ruff_check("src/app.py")')
    assert "<|im_end|>" not in trained and "print" not in trained
    assert example.key == "ruff_check"
    both = chat_examples(chat, tokenizer, attrs.evolve(config, call_examples="add"), NAMES)
    assert len(both) == 2 and len(both[0]) > len(both[1])


def test_call_cut_turn_keeps_the_whole_calling_turn() -> None:
    tokenizer = wrapped_tokenizer()
    config = TrainConfig(call_examples="only", call_cut="turn")
    (example,) = chat_examples(two_turn_chat("ruff_check"), tokenizer, config, NAMES)
    trained = tokenizer.decode(example.tokens[example.mask].tolist())
    assert 'r = ruff_check("src/app.py")\nprint(r)' in trained
    assert trained.endswith("<|im_end|>") and "three items" not in trained
    assert example.key == "ruff_check"


def test_later_call_repeat_copies_only_the_calls_after_a_tool_response() -> None:
    """A two-call chat: the second calling turn's example appears `later_call_repeat` times,
    the first calling turn's once."""
    tokenizer = wrapped_tokenizer()
    chat = [
        *two_turn_chat("git_status")[:4],
        {"role": "assistant", "content": format_tool_call('d = git_log(".")\nprint(d)')},
        {"role": "user", "content": "<tool_response>2 files</tool_response>"},
        {"role": "assistant", "content": "Two files changed."},
    ]
    config = TrainConfig(call_examples="only", later_call_repeat=3)
    examples = chat_examples(chat, tokenizer, config, NAMES)
    assert [e.key for e in examples] == ["git_status", "git_log", "git_log", "git_log"]
    once = chat_examples(chat, tokenizer, attrs.evolve(config, later_call_repeat=1), NAMES)
    assert [e.key for e in once] == ["git_status", "git_log"]


def test_call_line_end_covers_a_call_over_several_lines() -> None:
    reply = format_tool_call('x = 1\nr = git_log(\n    ".",\n    5,\n)\nprint(r)')
    end = call_line_end(reply, NAMES)
    assert end is not None and reply[:end].endswith("    5,\n)")
    assert call_line_end("no call here", NAMES) is None


def test_a_chat_without_a_call_stays_whole_with_call_examples_only() -> None:
    tokenizer = wrapped_tokenizer()
    chat = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "what is git?"},
        {"role": "assistant", "content": "A version control system."},
    ]
    split = training_split([chat], tokenizer, TrainConfig(call_examples="only"), NAMES)
    assert len(split) == 1 and split[0].key == NO_TOOL


def test_chat_share_keeps_a_seeded_share_of_chats_whole() -> None:
    """chat_share 0.5 of 6 calling chats: 3 whole chats + 6 call examples; a chat without a
    call stays whole whatever the share; the same seed picks the same chats."""
    tokenizer = wrapped_tokenizer()
    chats = [two_turn_chat(tool) for tool in ("git_log", "ruff_check", "typecheck") * 2]
    plain = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "what is git?"},
        {"role": "assistant", "content": "A version control system."},
    ]
    config = TrainConfig(call_examples="add", chat_share=0.5)
    split = training_split([*chats, plain], tokenizer, config, NAMES)
    texts = [tokenizer.decode(e.tokens.tolist()) for e in split]
    assert len(split) == 3 + 6 + 1
    assert sum("three items" in text for text in texts) == 3  # three calling chats' answers
    assert sum("version control" in text for text in texts) == 1
    again = training_split([*chats, plain], tokenizer, config, NAMES)
    assert [e.tokens.tolist() for e in again] == [e.tokens.tolist() for e in split]
    every = training_split(chats, tokenizer, attrs.evolve(config, chat_share=1.0), NAMES)
    assert len(every) == 12


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.floats(0.01, 1.0), st.integers(0, 9))
def test_whole_chats_is_the_share_rounded_and_sorted(count: int, share: float, seed: int) -> None:
    kept = whole_chats(count, share, seed)
    assert len(kept) == (count if share >= 1.0 else round(share * count))
    assert len(set(kept.tolist())) == len(kept) and list(kept) == sorted(kept)
    assert all(0 <= i < count for i in kept)
    assert kept.tolist() == whole_chats(count, share, seed).tolist()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from("abcde"), min_size=5, max_size=80),
    st.integers(0, 5),
    st.integers(0, 3),
)
def test_balanced_order_gives_each_key_an_equal_share(
    keys: list[str], seed: int, epoch: int
) -> None:
    order = balanced_order(keys, seed, epoch)
    assert len(order) == len(keys)
    counts = Counter(keys[i] for i in order)
    assert set(counts) == set(keys)
    assert max(counts.values()) - min(counts.values()) <= 1
    assert np.array_equal(order, balanced_order(keys, seed, epoch))


def test_balanced_order_covers_a_common_key_over_epochs() -> None:
    keys = ["big"] * 12 + ["small"] * 2
    seen = {int(i) for epoch in range(3) for i in balanced_order(keys, 0, epoch) if i < 12}
    assert seen == set(range(12))


def test_best_prefers_probe_accuracy_then_loss() -> None:
    best = Best(10, 0.5, 0.4)
    assert best.beaten_by(0.9, 0.5)
    assert not best.beaten_by(0.1, 0.3)
    assert best.beaten_by(0.4, 0.4) and not best.beaten_by(0.6, 0.4)
    assert Best(0, 0.5).beaten_by(0.6, 0.0)  # probed beats unprobed, whatever the loss
    assert Best(0, 0.5).beaten_by(0.4, None) and not Best(0, 0.5).beaten_by(0.6, None)


def test_decisions_and_chosen_tool() -> None:
    assert first_tool(format_tool_call('print(git_log("."))'), NAMES) == "git_log"
    assert first_tool("plain prose", NAMES) == NO_TOOL
    found = decisions([two_turn_chat("hover")], NAMES)
    assert found[0].query == "run hover on src/app.py please" and found[0].tool == "hover"
    assert chosen_tool("result = git_status(", NAMES) == "git_status"
    assert chosen_tool("print(", NAMES) is None


def test_probe_picks_the_planted_tool_after_training(tiny_model_dir: Path, tmp_path: Path) -> None:
    """A tiny model trained only on calls of one tool answers every request with that tool."""
    from mlx_lm import load

    loaded: Any = load(str(tiny_model_dir))
    model, tokenizer = loaded[0], loaded[1]
    planted = [two_turn_chat("typecheck") for _ in range(8)]
    for index, chat in enumerate(planted):
        chat[1] = {"role": "user", "content": f"check file {index} for problems"}
    config = TrainConfig(
        iters=320,
        batch_size=2,
        grad_accumulation_steps=1,
        learning_rate=2e-3,
        lr_schedule=None,
        lora_parameters=LoraParameters(rank=8, scale=10.0),
        call_examples="only",
        steps_per_eval=160,
        save_every=320,
        val_batches=-1,
        probe_examples=2,
    )
    valid = [two_turn_chat("typecheck"), two_turn_chat("git_log")]
    for index, chat in enumerate(valid):  # requests like the training ones, other numbers
        chat[1] = {"role": "user", "content": f"check file {index + 8} for problems"}
    # The tiny tokenizer has few merges: a tool name takes many tokens.
    probe = ToolProbe(probe_decisions(valid, NAMES), SYSTEM, NAMES, tokens_per_opening=64)
    before = probe.run(model, tokenizer)
    summary = train(
        config,
        model,
        tokenizer,
        training_split(planted, tokenizer, config, NAMES),
        valid,
        tmp_path,
        console=Console(file=io.StringIO()),
        probe=probe,
    )
    after = probe.run(model, tokenizer)
    assert before.chosen != ("typecheck", "typecheck")
    assert after.chosen == ("typecheck", "typecheck")
    assert after.accuracy == 0.5 and after.per_tool() == {"git_log": 0.0, "typecheck": 1.0}
    assert summary.best_probe_accuracy == 0.5


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from("abcde"), min_size=5, max_size=120),
    st.integers(0, 5),
    st.integers(0, 3),
)
def test_balanced_order_by_square_root_follows_each_keys_quota(
    keys: list[str], seed: int, epoch: int
) -> None:
    order = balanced_order(keys, seed, epoch, 0.5)
    assert len(order) == len(keys)
    sizes = Counter(keys)
    total = sum(size**0.5 for size in sizes.values())
    counts = Counter(keys[i] for i in order)
    for key, size in sizes.items():
        quota = len(keys) * size**0.5 / total
        assert int(quota) <= counts[key] <= int(quota) + 1
    assert np.array_equal(order, balanced_order(keys, seed, epoch, 0.5))


def test_balance_sqrt_gives_four_times_the_examples_twice_the_share() -> None:
    keys = ["big"] * 400 + ["small"] * 100
    counts = Counter(keys[i] for i in balanced_order(keys, 0, 0, 0.5))
    assert counts["big"] + counts["small"] == 500
    assert abs(counts["big"] - 2 * counts["small"]) <= 3  # quotas 333.3 and 166.7
    assert TrainConfig(balance="sqrt").balance_power == 0.5
    assert TrainConfig(balance="none").balance_power is None
