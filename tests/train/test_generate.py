"""Tests for punie_runtime.generate: greedy output, stopping, streaming, cache reuse, drafting."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from punie_runtime.base_model import load_model
from punie_runtime.generate import TOOL_CALL_END, Generator, find_draft
from punie_runtime.greedy_chat import ReplyText

SYSTEM = (
    "You are Punie, a coding assistant. To act, reply with one tool call:\n"
    "<tool_call><function=execute_code>\n<parameter=code>\n"
    'result = ruff_check("src")\nprint(result.violation_count)\n'
    "</parameter>\n</function></tool_call>\nAnswer in plain text when you are done."
)


def chat(query: str, system: str = SYSTEM) -> list[dict[str, str]]:
    """A system prompt and one user turn."""
    return [{"role": "system", "content": system}, {"role": "user", "content": query}]


@pytest.fixture(name="loaded", scope="module")
def fixture_loaded() -> tuple[Any, Any]:
    """The embedded model and tokenizer."""
    return load_model()


@pytest.fixture(name="plain")
def fixture_plain(loaded: tuple[Any, Any]) -> Generator:
    """A generator without cache reuse or drafting: one token per forward pass."""
    model, tokenizer = loaded
    return Generator(model, tokenizer, reuse_cache=False, draft_tokens=0, max_tokens=24)


@pytest.fixture(name="fast")
def fixture_fast(loaded: tuple[Any, Any]) -> Generator:
    """A generator with every optimisation on."""
    model, tokenizer = loaded
    return Generator(model, tokenizer, max_tokens=24)


def test_answers_sensibly(fast: Generator) -> None:
    """The embedded model answers a simple question with sensible text and stops at eos."""
    out = fast.generate([{"role": "user", "content": "What is the capital of France?"}])
    assert "Paris" in out.text
    assert out.stop == "eos"
    assert "<|im_end|>" not in out.text


def test_matches_mlx_lm_greedy(loaded: tuple[Any, Any], plain: Generator) -> None:
    """The plain decoding loop gives mlx-lm's own greedy output."""
    from mlx_lm import generate

    model, tokenizer = loaded
    messages = chat("Write a Python function that reverses a string.")
    expected = generate(model, tokenizer, plain.render(messages), max_tokens=12)
    out = plain.generate(messages, max_tokens=12)
    assert out.text == expected


def test_drafting_and_reuse_keep_greedy_output(plain: Generator, fast: Generator) -> None:
    """Prompt-lookup drafting and cache reuse change the cost, never the reply."""
    fast.generate(chat("What does print(result) do?"), max_tokens=2)  # leaves a prefix to reuse
    query = chat("Check src for lint errors with ruff_check.")
    out = fast.generate(query)
    assert out.reused_tokens > 0 and out.forward_passes < out.generated_tokens
    assert out.text == plain.generate(query).text


def test_reuses_system_prompt_cache(fast: Generator) -> None:
    """A second query with the same system prompt skips prefilling the shared prefix."""
    fast.generate(chat("List the files."), max_tokens=4)
    system_tokens = len(fast.render([{"role": "system", "content": SYSTEM}]))
    out = fast.generate(chat("Run the tests."), max_tokens=4)
    assert out.reused_tokens >= system_tokens - 1


def test_prefill_primes_the_cache(loaded: tuple[Any, Any]) -> None:
    """After prefill(system) the first query already reuses the system prompt."""
    model, tokenizer = loaded
    generator = Generator(model, tokenizer, max_tokens=2)
    system = [{"role": "system", "content": SYSTEM}]
    assert generator.prefill(system) > 0
    out = generator.generate(chat("List the files."))
    text = tokenizer.apply_chat_template(system, tokenize=False, add_generation_prompt=False)
    assert out.reused_tokens == len(tokenizer.encode(text, add_special_tokens=False))


def test_reuses_previous_turn(fast: Generator) -> None:
    """A follow-up turn reuses the cache of the whole earlier conversation."""
    messages = chat("What is 2 + 2?")
    first = fast.generate(messages, max_tokens=12)
    follow = [*messages, {"role": "assistant", "content": first.text}]
    out = fast.generate([*follow, {"role": "user", "content": "And 3 + 3?"}], max_tokens=4)
    assert out.reused_tokens >= first.prompt_tokens


def test_no_reuse_when_disabled(plain: Generator) -> None:
    """With reuse_cache=False every query is prefilled from scratch."""
    plain.generate(chat("List the files."), max_tokens=2)
    assert plain.generate(chat("List the files."), max_tokens=2).reused_tokens == 0


def test_max_tokens_caps_reply(fast: Generator) -> None:
    """The reply stops at max_tokens."""
    out = fast.generate(chat("Write a long poem about Python."), max_tokens=5)
    assert (out.generated_tokens, out.stop) == (5, "max_tokens")


def test_zero_max_tokens_is_an_error(fast: Generator) -> None:
    """A reply cap below one token is refused."""
    with pytest.raises(ValueError, match="at least 1"):
        fast.generate(chat("Hi"), max_tokens=0)


@pytest.mark.parametrize("draft_tokens", [0, 8])
def test_cache_matches_its_token_record(loaded: tuple[Any, Any], draft_tokens: int) -> None:
    """After a reply the KV cache holds exactly as many positions as tokens it records."""
    model, tokenizer = loaded
    generator = Generator(model, tokenizer, draft_tokens=draft_tokens, max_tokens=10)
    for query in ("Check src for lint errors with ruff_check.", "Say hello."):
        generator.generate(chat(query))
        assert generator._cache[0].offset == len(generator._cached)


def test_stop_string_cuts_reply(loaded: tuple[Any, Any]) -> None:
    """Generation stops right after a stop string, and the text ends with it."""
    model, tokenizer = loaded
    generator = Generator(model, tokenizer, stop_strings=("Paris",), max_tokens=40)
    out = generator.generate([{"role": "user", "content": "What is the capital of France?"}])
    assert out.stop == "stop_string"
    assert out.text.endswith("Paris")


def test_streams_every_piece(fast: Generator) -> None:
    """The streamed pieces join into the returned text."""
    pieces: list[str] = []
    out = fast.generate(chat("Say hello."), max_tokens=15, on_token=pieces.append)
    assert "".join(pieces) == out.text
    assert len(pieces) > 1


def test_reports_counts_and_times(fast: Generator) -> None:
    """A generation reports its token counts, forward passes and timings."""
    out = fast.generate(chat("Say hello."), max_tokens=8)
    assert out.prompt_tokens == len(fast.render(chat("Say hello.")))
    assert 0 < out.forward_passes <= out.generated_tokens
    assert out.prefill_seconds > 0 and out.decode_seconds > 0


def test_tool_call_end_stops_text(loaded: tuple[Any, Any]) -> None:
    """Text is cut right after </tool_call>, whatever the tokens after it."""
    _, tokenizer = loaded
    ids = tokenizer.encode('<tool_call>print("x")</tool_call>\nmore', add_special_tokens=False)
    pieces: list[str] = []
    text = ReplyText(tokenizer, (TOOL_CALL_END,), pieces.append)
    stopped_at = next(i for i, token in enumerate(ids) if text.add(token))
    assert text.finish() == '<tool_call>print("x")</tool_call>'
    assert tokenizer.decode(ids[: stopped_at + 1]).rstrip().endswith(TOOL_CALL_END)
    assert "".join(pieces) == '<tool_call>print("x")</tool_call>'


def test_find_draft_copies_continuation() -> None:
    """The draft is what followed the latest earlier occurrence of the last n-gram."""
    history = [5, 6, 7, 8, 9, 1, 6, 7, 2, 3, 6, 7]
    assert find_draft(history, length=3) == [2, 3, 6]


def test_find_draft_needs_a_bigram() -> None:
    """A single repeated token is not enough to draft."""
    assert find_draft([1, 2, 3, 1], length=4) == []


@given(
    history=st.lists(st.integers(0, 5), min_size=2, max_size=40),
    length=st.integers(1, 8),
)
def test_find_draft_is_a_real_continuation(history: list[int], length: int) -> None:
    """Any draft follows an earlier occurrence of the history's last two tokens."""
    draft = find_draft(history, length=length)
    assert len(draft) <= length
    if draft:
        tail = history[-2:]
        starts = [
            i + 2
            for i in range(len(history) - 2)
            if history[i : i + 2] == tail and history[i + 2 : i + 2 + len(draft)] == draft
        ]
        assert starts


def test_reply_without_a_call_stops_at_call_within(loaded: tuple[Any, Any]) -> None:
    """With call_within, a reply that has started no tool call stops there ("no_call")."""
    model, tokenizer = loaded
    strict = Generator(model, tokenizer, max_tokens=64, call_within=8)
    out = strict.generate([{"role": "user", "content": "Tell me a long story about a cat."}])
    assert out.stop in {"no_call", "eos"}
    if out.stop == "no_call":
        assert out.generated_tokens == 8
        assert "<tool_call>" not in out.text
