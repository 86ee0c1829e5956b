"""The fast loss (shared prefix, logits on targets only) equals the plain per-example loss."""

from __future__ import annotations

from typing import Any

import mlx.core as mx
import mlx.nn as nn
import numpy as np
from mlx.utils import tree_flatten

from punie_train.config import TrainConfig
from punie_train.dataset import make_batch, tokenize_split
from punie_train.forward import batch_arrays, batch_loss, check_fast_paths
from punie_train.trainer import apply_adapters


def plain_example_loss(model: nn.Module, tokens: np.ndarray, mask: np.ndarray) -> mx.array:
    """Mean cross-entropy over one example's target tokens, from a full plain forward."""
    logits = model(mx.array(tokens[None, :-1]))[0]
    losses = nn.losses.cross_entropy(logits, mx.array(tokens[1:]))
    weights = mx.array(mask[1:].astype(np.float32))
    return (losses * weights).sum() / weights.sum()


def test_fast_loss_equals_mean_of_plain_losses(tiny: tuple[Any, Any], tiny_chats: list) -> None:
    """Shared-prefix, target-only loss of four chats = mean of their plain losses."""
    model, tokenizer = tiny
    examples = list(tokenize_split(tiny_chats[:4], tokenizer, max_seq_length=2048))
    batch = make_batch(examples, 4)
    assert len(batch.prefix) > 0
    fast = batch_loss(model, *batch_arrays(batch))
    plain = mx.stack([plain_example_loss(model, e.tokens, e.mask) for e in examples]).mean()
    assert np.isclose(fast.item(), plain.item(), rtol=1e-5)


def test_fast_gradient_equals_plain_gradient(tiny: tuple[Any, Any], tiny_chats: list) -> None:
    """The LoRA gradients of the fast loss match those of the plain loss."""
    model, tokenizer = tiny
    apply_adapters(model, TrainConfig(num_layers=2))
    mx.eval(model.parameters())
    examples = list(tokenize_split(tiny_chats[:3], tokenizer, max_seq_length=2048))
    # lora_b starts at zero, which makes lora_a's gradient zero: perturb it first.
    model.update(_perturbed(model))
    fast_grad = nn.value_and_grad(model, batch_loss)(model, *batch_arrays(make_batch(examples, 3)))[
        1
    ]

    def plain(model: nn.Module) -> mx.array:
        return mx.stack([plain_example_loss(model, e.tokens, e.mask) for e in examples]).mean()

    plain_grad = nn.value_and_grad(model, plain)(model)[1]
    for (name, a), (_, b) in zip(tree_flatten(fast_grad), tree_flatten(plain_grad), strict=True):
        a, b = np.array(a), np.array(b)
        assert np.abs(a - b).max() <= 1e-4 * np.abs(b).max(), name  # float32 rounding only


def test_detached_prefix_keeps_the_loss_and_drops_only_the_prefix_path(
    tiny: tuple[Any, Any], tiny_chats: list
) -> None:
    """prefix_gradient=False: the same loss; the gradient is the exact one without the part
    that flows through the prefix's keys/values (so it differs), and equals the exact one
    when there is no shared prefix."""
    model, tokenizer = tiny
    apply_adapters(model, TrainConfig(num_layers=2))
    model.update(_perturbed(model))
    examples = list(tokenize_split(tiny_chats[:3], tokenizer, max_seq_length=2048))
    grad = nn.value_and_grad(model, batch_loss)
    shared = batch_arrays(make_batch(examples, 3))
    exact_loss, exact = grad(model, *shared)
    detached_loss, detached = grad(model, *shared, prefix_gradient=False)
    assert np.isclose(exact_loss.item(), detached_loss.item(), rtol=1e-6)
    difference = max(
        float(np.abs(np.array(a) - np.array(b)).max())
        for (_, a), (_, b) in zip(tree_flatten(exact), tree_flatten(detached), strict=True)
    )
    assert difference > 1e-6
    unshared = batch_arrays(make_batch(examples, 3, share_prefix=False))
    _, plain = grad(model, *unshared)
    _, plain_detached = grad(model, *unshared, prefix_gradient=False)
    for (name, a), (_, b) in zip(tree_flatten(plain), tree_flatten(plain_detached), strict=True):
        assert np.array_equal(np.array(a), np.array(b)), name


def _perturbed(model: nn.Module) -> Any:
    from mlx.utils import tree_map

    mx.random.seed(7)
    return tree_map(lambda v: v + 0.05 * mx.random.normal(v.shape), model.trainable_parameters())


def test_fast_paths_checked_on_llama(tiny: tuple[Any, Any]) -> None:
    """Both shortcuts are verified and enabled for an mlx-lm llama model."""
    model, tokenizer = tiny
    fast = check_fast_paths(model, tokenizer.vocab_size)
    assert fast.split_head and fast.share_prefix, fast.note
