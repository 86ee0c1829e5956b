"""Path swapping on first-call examples: what counts as a path, the pools, what changes where."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from punie_train.config import ConfigError, TrainConfig
from punie_train.mix import training_split
from punie_train.path_swap import file_paths, path_pools, swap_paths, with_paths_swapped
from tests.train.test_config import parse
from tests.train.test_mix_probe import NAMES, two_turn_chat, wrapped_tokenizer

CATEGORIES = {name: "git" if name.startswith("git") else "checks" for name in NAMES}
POOLS = {
    ("checks", "src", ".py"): ("src/app.py", "src/cli.py", "src/db.py", "src/web.py"),
    ("checks", ".", ".md"): ("README.md",),
}
SEGMENT = st.text("abcxyz_-", min_size=1, max_size=6)
FILLER = st.sampled_from([" ", " see ", ", ", " (", ") ", ". ", " `", "` ", " and "])


def test_file_paths_are_files_not_dotted_names() -> None:
    """Folders, a name and a file suffix: a sentence's full stop is no part of it."""
    text = (
        "declared in routes/api.py. Also README.md, x.py.bak, a/b.pyc, json.dumps, "
        '(tests/t.py) "c.toml" inventory/py.typed and routes/api.py again'
    )
    assert file_paths(text) == ["routes/api.py", "README.md", "tests/t.py", "c.toml"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(FILLER, st.lists(SEGMENT, min_size=1, max_size=3)), max_size=5))
def test_file_paths_finds_every_path_put_between_words(
    pieces: list[tuple[str, list[str]]],
) -> None:
    """Every path written between filler words is found, in order, each once."""
    paths = ["/".join(segments) + ".py" for _, segments in pieces]
    text = "".join(filler + path for (filler, _), path in zip(pieces, paths, strict=True))
    assert file_paths(text + ".") == list(dict.fromkeys(paths))


def test_pools_group_request_files_by_category_folder_and_suffix() -> None:
    """A chat's request files join the pool of its first tool's category, folder and suffix."""
    chats = [two_turn_chat(tool) for tool in ("ruff_check", "typecheck", "git_log")]
    chats[1][1]["content"] = "typecheck src/db.py and README.md please"
    pools = path_pools(chats, CATEGORIES, NAMES)
    assert pools == {
        ("checks", "src", ".py"): ("src/app.py", "src/db.py"),
        ("checks", ".", ".md"): ("README.md",),
        ("git", "src", ".py"): ("src/app.py",),
    }


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_a_swap_renames_the_file_in_request_and_call_alike(seed: int) -> None:
    """Each path becomes another file of its pool, everywhere it stands as a whole path."""
    request = "lint src/app.py, then src/db.py; not mysrc/app.py"
    reply = 'r = ruff_check("src/app.py")\nprint(r, "src/db.py")'
    new_request, new_reply = swap_paths(
        request, reply, "checks", POOLS, np.random.default_rng(seed)
    )
    first, second = file_paths(new_request)[:2]
    assert {first, second} == {"src/cli.py", "src/web.py"}  # the request's own files not
    assert new_request == f"lint {first}, then {second}; not mysrc/app.py"
    assert new_reply == f'r = ruff_check("{first}")\nprint(r, "{second}")'


def test_a_file_with_no_other_in_its_pool_stays() -> None:
    """A pool holding only the file itself, or no pool, leaves the text as it is."""
    rng = np.random.default_rng(0)
    assert swap_paths("read README.md", "x", "checks", POOLS, rng) == ("read README.md", "x")
    assert swap_paths("read src/app.py", "x", "git", POOLS, rng) == ("read src/app.py", "x")


def test_only_a_first_calling_turn_is_swapped() -> None:
    """The first call's request and reply change; a later call keeps the files the tool
    output named; the input chat is left alone."""
    chat = two_turn_chat("ruff_check")
    first = with_paths_swapped(chat, 2, "checks", POOLS, np.random.default_rng(1))
    assert "src/app.py" not in first[1]["content"] + first[2]["content"]
    assert chat[1]["content"] == "run ruff_check on src/app.py please"
    assert first[3:] == chat[3:]
    later = [*chat, {"role": "assistant", "content": chat[2]["content"]}]
    assert with_paths_swapped(later, 5, "checks", POOLS, np.random.default_rng(1)) == later


def test_the_mix_swaps_first_call_examples_only_and_is_seeded() -> None:
    """With path_swap 1 every first-call example names another file and every whole chat
    stays; share 0 is the mix without it; the same seed gives the same tokens."""
    tokenizer = wrapped_tokenizer()
    chats = [two_turn_chat(tool) for tool in ("ruff_check", "typecheck", "pytest_run") * 2]
    for chat, path in zip(chats, ["src/app.py", "src/db.py", "src/web.py"] * 2, strict=True):
        chat[1]["content"] = chat[1]["content"].replace("src/app.py", path)
        chat[2]["content"] = chat[2]["content"].replace("src/app.py", path)
    config = TrainConfig(call_examples="add", chat_share=1.0, path_swap=1.0)
    plain = training_split(chats, tokenizer, attrs.evolve(config, path_swap=0.0), NAMES)
    swapped = training_split(chats, tokenizer, config, NAMES, categories=CATEGORIES)
    assert len(plain) == len(swapped) == 12
    for a, b in zip(plain, swapped, strict=True):
        before, after = tokenizer.decode(a.tokens.tolist()), tokenizer.decode(b.tokens.tolist())
        if "three items" in before:  # a whole chat
            assert before == after
        else:
            assert file_paths(before) != file_paths(after)
            assert len(set(file_paths(after))) == 1  # request and call name the same file
    again = training_split(chats, tokenizer, config, NAMES, categories=CATEGORIES)
    assert [e.tokens.tolist() for e in again] == [e.tokens.tolist() for e in swapped]
    with pytest.raises(ValueError, match="path_swap needs the tools' categories"):
        training_split(chats, tokenizer, config, NAMES)


def test_path_swap_out_of_range_is_refused() -> None:
    """The share is a probability."""
    with pytest.raises(ConfigError, match=r"path_swap must be in \[0, 1\], got 1.5"):
        parse(["--path-swap", "1.5"])


def test_word_dropout_keeps_the_swapped_files() -> None:
    """With request_dropout too, the call example's request keeps the new file (a word the
    call copies), not the old one."""
    tokenizer = wrapped_tokenizer()
    chats = [two_turn_chat(tool) for tool in ("ruff_check", "typecheck", "pytest_run")]
    for chat, path in zip(chats, ["src/app.py", "src/db.py", "src/web.py"], strict=True):
        chat[1]["content"] = chat[1]["content"].replace("src/app.py", path)
        chat[2]["content"] = chat[2]["content"].replace("src/app.py", path)
    config = TrainConfig(call_examples="only", path_swap=1.0, request_dropout=0.5)
    plain = training_split(chats, tokenizer, attrs.evolve(config, path_swap=0.0), NAMES)
    both = training_split(chats, tokenizer, config, NAMES, categories=CATEGORIES)
    for a, b in zip(plain, both, strict=True):
        before, after = tokenizer.decode(a.tokens.tolist()), tokenizer.decode(b.tokens.tolist())
        assert file_paths(before) != file_paths(after) and len(set(file_paths(after))) == 1
        assert after.count(file_paths(after)[0]) == 2  # the request kept it, the call has it
