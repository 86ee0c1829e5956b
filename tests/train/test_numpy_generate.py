"""Tests for the numpy decoder and generator: mlx's logits and greedy replies, cache handling."""

from __future__ import annotations

from typing import Any

import mlx.core as mx
import numpy as np
import pytest
from mlx_lm.models.cache import make_prompt_cache

from punie_runtime.base_model import load_model
from punie_runtime.generate import Generator
from punie_runtime.numpy_generate import NumpyGenerator
from punie_runtime.numpy_llama import NumpyLlama, UnsupportedModelError

SYSTEM = (
    "You are Punie, a coding assistant. To act, reply with one tool call:\n"
    "<tool_call><function=execute_code>\n<parameter=code>\n"
    'result = ruff_check("src")\nprint(result.violation_count)\n'
    "</parameter>\n</function></tool_call>\nAnswer in plain text when you are done."
)
QUERIES = (
    "Check src for lint errors with ruff_check.",
    "What is the capital of France?",
    "Write a Python function that reverses a string.",
)


def chat(query: str) -> list[dict[str, str]]:
    """A system prompt and one user turn."""
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": query}]


@pytest.fixture(name="loaded", scope="module")
def fixture_loaded() -> tuple[Any, Any]:
    """The embedded model and tokenizer."""
    return load_model()


@pytest.fixture(name="decoder", scope="module")
def fixture_decoder(loaded: tuple[Any, Any]) -> NumpyLlama:
    """The embedded model's weights in the numpy decoder."""
    return NumpyLlama.from_mlx(loaded[0])


def test_logits_match_mlx_with_a_cache(loaded: tuple[Any, Any], decoder: NumpyLlama) -> None:
    """Prompt, then one token, then four: numpy's logits are mlx's, the same argmax."""
    model, tokenizer = loaded
    source = "def reverse(text):\n    return text[::-1]\n"
    prompt = tokenizer.encode(source, add_special_tokens=False)
    cache = make_prompt_cache(model)
    decoder.reset()
    for chunk in (prompt, [11], [13, 17, 19, 23]):
        expected = np.array(model(mx.array([chunk]), cache=cache)[0])
        got = decoder.feed(chunk)
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() < 2e-3
        assert (got.argmax(-1) == expected.argmax(-1)).all()
    assert decoder.length == cache[0].offset


def test_trim_then_refeed_gives_the_same_logits(decoder: NumpyLlama) -> None:
    """Trimming the cache and feeding the same tokens again repeats the logits exactly."""
    decoder.reset()
    decoder.feed(list(range(100, 140)))
    first = decoder.feed([7, 8, 9])
    decoder.trim(3)
    assert decoder.length == 40
    np.testing.assert_array_equal(decoder.feed([7, 8, 9]), first)
    decoder.trim(2)  # a batch of two rounds differently from one of three: close, not equal
    np.testing.assert_allclose(decoder.feed([8, 9], last_only=True), first[-1:], atol=1e-3)


def test_cache_grows_past_its_first_capacity(decoder: NumpyLlama) -> None:
    """A prompt longer than the initial buffers grows them and keeps earlier positions."""
    decoder.reset()
    decoder.feed([5] * 1000)
    before = decoder.feed([6])
    decoder.trim(1)
    decoder.feed([5] * 100)  # past 1,024: the buffers are copied into larger ones
    decoder.trim(100)
    np.testing.assert_array_equal(decoder.feed([6]), before)


def test_greedy_replies_are_mlx_s(loaded: tuple[Any, Any], decoder: NumpyLlama) -> None:
    """The numpy generator, drafting and reusing its cache, answers as the plain mlx loop does."""
    model, tokenizer = loaded
    mlx_plain = Generator(model, tokenizer, reuse_cache=False, draft_tokens=0, max_tokens=40)
    fast = NumpyGenerator(decoder, tokenizer, max_tokens=40)
    plain = NumpyGenerator(
        NumpyLlama.from_mlx(model), tokenizer, max_tokens=40, reuse_cache=False, draft_tokens=0
    )
    fast.reset()
    for query in QUERIES:
        expected = mlx_plain.generate(chat(query))
        got = fast.generate(chat(query))
        assert got.text == expected.text
        assert got.tokens == expected.tokens
        assert plain.generate(chat(query)).tokens == expected.tokens
    out = fast.generate(chat(QUERIES[0]))
    assert out.reused_tokens > 0 and out.forward_passes < out.generated_tokens
    assert decoder.length == len(fast._cached)


def test_prefill_primes_the_cache(loaded: tuple[Any, Any], decoder: NumpyLlama) -> None:
    """After prefill(system) the first query reuses the whole system prompt."""
    _, tokenizer = loaded
    generator = NumpyGenerator(decoder, tokenizer, max_tokens=2)
    generator.reset()
    system = [{"role": "system", "content": SYSTEM}]
    assert generator.prefill(system) > 0
    out = generator.generate(chat("List the files."))
    assert out.reused_tokens == len(generator.render(system, reply=False))


def test_an_unfused_adapter_is_refused(loaded: tuple[Any, Any]) -> None:
    """Adapter layers must be fused into the weights before the decoder copies them."""
    from mlx_lm.tuner.utils import linear_to_lora_layers

    model, _ = load_model()
    linear_to_lora_layers(model, 1, {"rank": 2, "scale": 1.0, "dropout": 0.0})
    with pytest.raises(UnsupportedModelError, match="fuse it first"):
        NumpyLlama.from_mlx(model)


def test_adapters_fused_into_the_copy_give_the_adapted_logits() -> None:
    """With fuse_adapters the copy computes the LoRA model's logits; the model is untouched."""
    from mlx.utils import tree_flatten
    from mlx_lm.tuner.utils import linear_to_lora_layers

    model, _ = load_model()
    linear_to_lora_layers(model, 2, {"rank": 4, "scale": 8.0, "dropout": 0.0})
    rng = np.random.default_rng(0)
    updates = [
        (name, mx.array(rng.normal(0, 0.02, np.shape(value)).astype(np.float32)))
        for name, value in tree_flatten(model.trainable_parameters())
        if name.endswith("lora_b")
    ]
    model.load_weights(updates, strict=False)
    model.eval()
    tokens = list(range(200, 230))
    expected = np.array(model(mx.array([tokens]))[0])
    decoder = NumpyLlama.from_mlx(model, fuse_adapters=True)
    got = decoder.feed(tokens)
    assert np.abs(got - expected).max() < 2e-3
    assert (got.argmax(-1) == expected.argmax(-1)).all()
    assert any(hasattr(m, "lora_a") for _, m in model.named_modules())


def test_other_architectures_are_refused() -> None:
    """A model that is not mlx-lm's llama is refused with its type named."""

    class Args:
        model_type = "qwen2"

    class Fake:
        args = Args()

    with pytest.raises(UnsupportedModelError, match="not 'qwen2'"):
        NumpyLlama.from_mlx(Fake())
