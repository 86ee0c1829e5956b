"""Word dropout on call examples' requests: which words go, which stay, and where it applies."""

from __future__ import annotations

import attrs
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from punie_train.config import TrainConfig
from punie_train.mix import training_split
from punie_train.request_dropout import drop_words, with_request_dropped
from tests.train.test_mix_probe import NAMES, two_turn_chat, wrapped_tokenizer

REPLY = 'result = run_command("wc -l inventory/orders.py")\nprint(result)'
WORDS = st.lists(st.sampled_from(["run", "the", "Count", "lines,", "please", "in", "it"]))


@settings(max_examples=200, deadline=None)
@given(WORDS, st.floats(0.0, 0.99), st.integers(0, 2**32 - 1))
def test_dropped_words_are_a_subsequence_and_anchors_stay(
    words: list[str], share: float, seed: int
) -> None:
    """What is left is the request's words in order; the reply's words are never dropped."""
    text = " ".join([*words, "inventory/orders.py", "(wc", "-l)"])
    out = drop_words(text, REPLY, share, np.random.default_rng(seed))
    left = out.split()
    assert "inventory/orders.py" in left and "(wc" in left and "-l)" in left
    source = iter(text.split())
    assert all(any(word == have for have in source) for word in left)
    assert out == out.strip()


def test_no_share_or_nothing_left_keeps_the_request() -> None:
    """Share 0 changes nothing; a draw that would leave no word keeps the request whole."""
    rng = np.random.default_rng(0)
    assert drop_words("count the lines please", REPLY, 0.0, rng) == "count the lines please"
    assert drop_words("count the lines", "", 0.999999, rng) == "count the lines"


def test_only_the_first_request_before_the_cut_changes() -> None:
    """The chat is copied; its first user message loses words, the tool response does not."""
    chat = two_turn_chat("git_log")
    chat[1]["content"] = "please could you kindly run git_log on src/app.py for me now"
    out = with_request_dropped(chat, 2, 0.9, np.random.default_rng(3))
    assert chat[1]["content"].startswith("please could")  # the input is left alone
    assert out[1]["content"].split()[-2:] != chat[1]["content"].split()[-2:]
    assert {"git_log", "src/app.py"} <= set(out[1]["content"].split())
    assert out[2:] == chat[2:]


def test_the_mix_drops_words_from_call_examples_only_and_is_seeded() -> None:
    """With request_dropout the call examples' requests are shorter, the whole chats' are not,
    and the same seed gives the same tokens."""
    tokenizer = wrapped_tokenizer()
    chats = [two_turn_chat(tool) for tool in ("git_log", "ruff_check", "typecheck") * 3]
    for chat in chats:
        chat[1]["content"] = (
            f"hey there, would you please run {chat[1]['content'].split()[1]} on src/app.py "
            "and then tell me honestly everything that it says about the code"
        )
    config = TrainConfig(call_examples="add", chat_share=1.0, request_dropout=0.5)
    plain = training_split(chats, tokenizer, attrs.evolve(config, request_dropout=0.0), NAMES)
    dropped = training_split(chats, tokenizer, config, NAMES)
    assert len(plain) == len(dropped) == 18
    pairs = list(zip(plain, dropped, strict=True))
    is_whole = ["three items" in tokenizer.decode(a.tokens.tolist()) for a, _ in pairs]
    whole = [pair for pair, w in zip(pairs, is_whole, strict=True) if w]
    cuts = [pair for pair, w in zip(pairs, is_whole, strict=True) if not w]
    assert len(whole) == 9 and all(a.tokens.tolist() == b.tokens.tolist() for a, b in whole)
    assert all(len(b.tokens) < len(a.tokens) for a, b in cuts)
    again = training_split(chats, tokenizer, config, NAMES)
    assert [e.tokens.tolist() for e in again] == [e.tokens.tolist() for e in dropped]
