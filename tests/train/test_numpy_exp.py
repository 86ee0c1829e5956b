"""Tests for the numpy-`exp` ops: values and gradients equal mlx's, install/uninstall."""

from __future__ import annotations

from typing import Any

import mlx.core as mx
import mlx.nn as nn
import mlx_lm.models.llama as llama
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlx.utils import tree_flatten
from mlx_lm.models.base import scaled_dot_product_attention

from punie_runtime import numpy_exp
from tests.train.arrays import close

pytestmark = pytest.mark.usefixtures("numpy_every_size")


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(1, 6),
    width=st.integers(1, 40),
    spread=st.floats(0.1, 60.0),
    seed=st.integers(0, 2**16),
)
def test_softmax_and_its_gradient_equal_mlx(
    rows: int, width: int, spread: float, seed: int
) -> None:
    x = mx.random.normal((rows, width), key=mx.random.key(seed)) * spread
    g = mx.random.normal((rows, width), key=mx.random.key(seed + 1))
    assert close(numpy_exp.softmax(x), mx.softmax(x, axis=-1))
    ours = mx.grad(lambda v: (numpy_exp.softmax(v) * g).sum())(x)
    theirs = mx.grad(lambda v: (mx.softmax(v, axis=-1) * g).sum())(x)
    assert close(ours, theirs, 1e-4)


@settings(max_examples=25, deadline=None)
@given(size=st.integers(1, 300), spread=st.floats(0.1, 80.0), seed=st.integers(0, 2**16))
def test_sigmoid_and_swiglu_gradients_equal_mlx(size: int, spread: float, seed: int) -> None:
    gate = mx.random.normal((size,), key=mx.random.key(seed)) * spread
    x = mx.random.normal((size,), key=mx.random.key(seed + 1))
    assert close(numpy_exp.sigmoid(gate), mx.sigmoid(gate))
    ours = mx.grad(lambda a, b: numpy_exp.swiglu(a, b).sum(), argnums=(0, 1))(gate, x)
    theirs = mx.grad(lambda a, b: (nn.silu(a) * b).sum(), argnums=(0, 1))(gate, x)
    assert all(close(o, t, 1e-4) for o, t in zip(ours, theirs, strict=True))


@settings(max_examples=20, deadline=None)
@given(rows=st.integers(1, 5), vocab=st.integers(2, 50), seed=st.integers(0, 2**16))
def test_cross_entropy_and_its_gradient_equal_mlx(rows: int, vocab: int, seed: int) -> None:
    logits = mx.random.normal((rows, vocab), key=mx.random.key(seed)) * 5
    targets = mx.random.randint(0, vocab, (rows,), key=mx.random.key(seed + 1))
    weights = mx.random.uniform(shape=(rows,), key=mx.random.key(seed + 2))
    assert close(numpy_exp.cross_entropy(logits, targets), nn.losses.cross_entropy(logits, targets))
    ours = mx.grad(lambda v: (numpy_exp.cross_entropy(v, targets) * weights).sum())(logits)
    theirs = mx.grad(lambda v: (nn.losses.cross_entropy(v, targets) * weights).sum())(logits)
    assert close(ours, theirs, 1e-5)


def _qkv(length: int, span: int, heads: int = 6, kv_heads: int = 2) -> tuple[mx.array, ...]:
    key = mx.random.key(length * 100 + span)
    q, k, v = (
        mx.random.normal(shape, key=sub)
        for shape, sub in zip(
            [(2, heads, length, 8), (2, kv_heads, span, 8), (2, kv_heads, span, 8)],
            mx.random.split(key, 3),
            strict=True,
        )
    )
    return q, k, v


@pytest.mark.parametrize("mask_kind", ["none", "causal", "bool", "additive"])
@pytest.mark.parametrize(("length", "span"), [(1, 1), (5, 5), (3, 9), (1, 7)])
def test_attention_equals_mlx_lm_for_every_mask(mask_kind: str, length: int, span: int) -> None:
    q, k, v = _qkv(length, span)
    allowed = mx.arange(span)[None, :] <= mx.arange(length)[:, None] + (span - length)
    mask: Any = {
        "none": None,
        "causal": "causal",
        "bool": allowed,
        "additive": mx.where(allowed, 0.0, -1e9),
    }[mask_kind]
    ours = numpy_exp.attention(q, k, v, cache=None, scale=0.35, mask=mask)
    theirs = scaled_dot_product_attention(q, k, v, cache=None, scale=0.35, mask=mask)
    assert ours.shape == theirs.shape
    assert close(ours, theirs)
    g = mx.random.normal(ours.shape, key=mx.random.key(11))

    def grads(function: Any) -> tuple[mx.array, ...]:
        def loss(a: mx.array, b: mx.array, c: mx.array) -> mx.array:
            return (function(a, b, c, cache=None, scale=0.35, mask=mask) * g).sum()

        return mx.grad(loss, argnums=(0, 1, 2))(q, k, v)

    mine, reference = grads(numpy_exp.attention), grads(scaled_dot_product_attention)
    assert all(close(o, t, 1e-4) for o, t in zip(mine, reference, strict=True))


def _tiny_llama() -> llama.Model:
    args = llama.ModelArgs(
        model_type="llama",
        hidden_size=32,
        num_hidden_layers=2,
        intermediate_size=64,
        num_attention_heads=4,
        num_key_value_heads=2,
        rms_norm_eps=1e-5,
        vocab_size=50,
        tie_word_embeddings=True,
    )
    mx.random.seed(3)
    model = llama.Model(args)
    mx.eval(model.parameters())
    return model


def test_installed_model_gives_the_same_logits_and_gradients() -> None:
    model = _tiny_llama()
    tokens = mx.array([[1, 5, 9, 2, 7, 7, 3, 11]])

    def loss(m: nn.Module) -> mx.array:
        return nn.losses.cross_entropy(m(tokens[:, :-1])[0], tokens[0, 1:]).mean()

    was = numpy_exp.installed(model)
    numpy_exp.uninstall(model)
    try:
        assert not numpy_exp.installed(model)
        plain_logits = model(tokens)
        plain_loss, plain_grads = nn.value_and_grad(model, loss)(model)
        assert numpy_exp.install(model) == numpy_exp.PATCHED_NAMES
        assert numpy_exp.installed(model)
        assert llama.swiglu is numpy_exp.swiglu
        assert all(type(layer.self_attn.rope) is numpy_exp.TableRoPE for layer in model.layers)
        fast_logits = model(tokens)
        fast_loss, fast_grads = nn.value_and_grad(model, loss)(model)
    finally:
        numpy_exp.uninstall(model)
        if was:
            numpy_exp.install(model)
    assert close(fast_logits, plain_logits)
    assert abs(fast_loss.item() - plain_loss.item()) < 1e-5
    plain, fast = dict(tree_flatten(plain_grads)), dict(tree_flatten(fast_grads))
    assert plain.keys() == fast.keys()
    assert all(close(fast[name], plain[name], 1e-4) for name in plain)


def test_uninstall_restores_mlx_lm_functions() -> None:
    model = _tiny_llama()
    was = numpy_exp.installed(model)
    numpy_exp.install(model)
    numpy_exp.install(model)  # twice: the saved originals stay mlx-lm's
    numpy_exp.uninstall(model)
    assert llama.scaled_dot_product_attention is scaled_dot_product_attention
    assert all(type(layer.self_attn.rope) is nn.RoPE for layer in model.layers)
    assert not numpy_exp.installed(model)
    if was:
        numpy_exp.install(model)


def test_half_precision_input_keeps_its_dtype() -> None:
    x = (mx.arange(12).reshape(3, 4) / 7).astype(mx.float16)
    out = numpy_exp.softmax(x)
    assert out.dtype == mx.float16
    np.testing.assert_allclose(
        np.asarray(out.astype(mx.float32)),
        np.asarray(mx.softmax(x.astype(mx.float32), axis=-1)),
        atol=2e-3,
    )


@pytest.mark.parametrize(
    ("length", "offset", "dims", "width"), [(1, 0, 8, 8), (7, 390, 8, 8), (5, 3, 8, 12)]
)
def test_table_rope_equals_mlx_rope(length: int, offset: int, dims: int, width: int) -> None:
    x = mx.random.normal((2, 3, length, width), key=mx.random.key(length + offset))
    table = numpy_exp.TableRoPE(dims, False, 10000.0, 1.0)
    plain = nn.RoPE(dims, False, 10000.0, 1.0)
    assert close(table(x, offset), plain(x, offset=offset), 1e-4)
    g = mx.random.normal(x.shape, key=mx.random.key(7))
    ours = mx.grad(lambda v: (table(v, offset) * g).sum())(x)
    theirs = mx.grad(lambda v: (plain(v, offset=offset) * g).sum())(x)
    assert close(ours, theirs, 1e-4)


def test_masked_softmax_gives_masked_positions_zero_weight() -> None:
    x = mx.random.normal((2, 4, 6), key=mx.random.key(5))
    allowed = mx.arange(6)[None, :] <= mx.arange(4)[:, None] + 2
    ours = numpy_exp.masked_softmax(x, allowed)
    theirs = mx.softmax(mx.where(allowed, x, -mx.inf), axis=-1)
    assert close(ours, theirs)
    assert mx.all(mx.where(allowed, 0.0, ours) == 0).item()


def test_small_inputs_stay_in_mlx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(numpy_exp, "SMALL", 1 << 14)
    x = mx.random.normal((3, 5), key=mx.random.key(2))
    assert mx.array_equal(numpy_exp.softmax(x), mx.softmax(x, axis=-1)).item()
    assert mx.array_equal(numpy_exp.sigmoid(x), mx.sigmoid(x)).item()
    q, k, v = _qkv(1, 9)
    ours = numpy_exp.attention(q, k, v, cache=None, scale=0.35, mask=None)
    theirs = scaled_dot_product_attention(q, k, v, cache=None, scale=0.35, mask=None)
    assert mx.array_equal(ours, theirs).item()
