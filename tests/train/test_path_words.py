"""Files said in words on first-call examples: the phrases, which paths, where in the mix."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from punie_train.config import ConfigError, TrainConfig
from punie_train.mix import training_split
from punie_train.path_swap import file_paths
from punie_train.path_words import path_phrases, with_paths_in_words, words_for_paths
from tests.train.test_config import parse
from tests.train.test_mix_probe import NAMES, two_turn_chat, wrapped_tokenizer


def test_phrases_come_from_the_path_itself() -> None:
    """Module name, folder/name, test subject, an upper-case document's name."""
    assert path_phrases("inventory/pricing.py") == [
        "the pricing module",
        "inventory/pricing",
        "the pricing code in inventory",
    ]
    assert path_phrases("tests/test_order_lines.py") == [
        "the order lines tests",
        "the tests for order lines",
        "the order lines test module",
    ]
    assert path_phrases("README.md") == ["the README", "README"]
    assert path_phrases("docs/usage.md") == ["the usage file", "docs/usage"]
    assert path_phrases("__init__.py") == []


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_only_paths_the_call_copies_are_said_in_words(seed: int) -> None:
    """The reply's file becomes words; a file only the request names stays a path."""
    request = "lint src/pricing.py like src/other.py does"
    reply = 'r = ruff_check("src/pricing.py")\nprint(r)'
    out = words_for_paths(request, reply, np.random.default_rng(seed))
    assert file_paths(out) == ["src/other.py"]
    assert out.endswith(" like src/other.py does")
    assert out[len("lint ") : -len(" like src/other.py does")] in path_phrases("src/pricing.py")


def test_only_a_first_calling_turn_is_said_in_words() -> None:
    """The request of a first call changes, the call does not; a later call's chat stays."""
    chat = two_turn_chat("ruff_check")
    out = with_paths_in_words(chat, 2, np.random.default_rng(0))
    assert "src/app.py" not in out[1]["content"] and out[2:] == chat[2:]
    assert chat[1]["content"] == "run ruff_check on src/app.py please"
    later = [*chat, {"role": "assistant", "content": chat[2]["content"]}]
    assert with_paths_in_words(later, 5, np.random.default_rng(0)) == later


def test_the_mix_says_files_in_words_in_call_examples_only() -> None:
    """With path_words 1 every first-call request loses its path, the calls and whole chats
    keep theirs; 0 is the mix without it; the same seed gives the same tokens."""
    tokenizer = wrapped_tokenizer()
    chats = [two_turn_chat(tool) for tool in ("ruff_check", "typecheck", "git_log")]
    config = TrainConfig(call_examples="add", chat_share=1.0, path_words=1.0)
    plain = training_split(chats, tokenizer, attrs.evolve(config, path_words=0.0), NAMES)
    spoken = training_split(chats, tokenizer, config, NAMES)
    assert len(plain) == len(spoken) == 6
    for a, b in zip(plain, spoken, strict=True):
        before, after = tokenizer.decode(a.tokens.tolist()), tokenizer.decode(b.tokens.tolist())
        if "three items" in before:
            assert before == after
        else:
            assert before.count("src/app.py") == 2 and after.count("src/app.py") == 1
    again = training_split(chats, tokenizer, config, NAMES)
    assert [e.tokens.tolist() for e in again] == [e.tokens.tolist() for e in spoken]


def test_path_words_out_of_range_is_refused() -> None:
    """The share is a probability."""
    with pytest.raises(ConfigError, match=r"path_words must be in \[0, 1\], got -0.5"):
        parse(["--path-words", "-0.5"])
