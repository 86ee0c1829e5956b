"""The training loss on one `Batch`: shared prefix computed once, logits only where trained.

Two things make a CPU step cheap here, both exact:
- the prefix every example of an update shares (the system prompt) runs once; its keys and
  values (with their gradient path) are handed to each example's own pass through a cache
  object that follows mlx-lm's KV-cache protocol, so any mlx-lm model that takes `cache=`
  works;
- the vocabulary projection and softmax (49k columns for SmolLM2) run only on the hidden
  states that predict a target token, not on every position.

`check_fast_paths(model)` compares both against the plain forward once at start and reports
which are active; a model whose structure does not fit falls back to the plain path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import mlx.core as mx
import mlx.nn as nn
import numpy as np

from punie_runtime import numpy_exp
from punie_train.dataset import Batch, TokenizedExample, make_batch


class PrefixCache:
    """Per-layer cache: keeps the prefix's keys/values and prepends them to every row's."""

    def __init__(self) -> None:
        self.keys: mx.array | None = None
        self.values: mx.array | None = None
        self.offset = 0

    def update_and_fetch(self, keys: mx.array, values: mx.array) -> tuple[mx.array, mx.array]:
        """First call stores the prefix; later calls return prefix + theirs (not stored)."""
        if self.keys is None or self.values is None:
            self.keys, self.values = keys, values
            self.offset = keys.shape[2]
            return keys, values
        rows = keys.shape[0]
        shared_k = mx.broadcast_to(self.keys, (rows, *self.keys.shape[1:]))
        shared_v = mx.broadcast_to(self.values, (rows, *self.values.shape[1:]))
        return (
            mx.concatenate([shared_k, keys], axis=2),
            mx.concatenate([shared_v, values], axis=2),
        )

    def detach(self) -> None:
        """Keep the stored prefix out of the gradient (its values unchanged)."""
        if self.keys is not None and self.values is not None:
            self.keys = mx.stop_gradient(self.keys)
            self.values = mx.stop_gradient(self.values)

    def make_mask(self, n: int, return_array: bool = False, window_size: int | None = None) -> Any:
        """Causal attention, aligned to the end of the keys like mlx-lm's `KVCache`."""
        if window_size is not None:
            raise NotImplementedError("sliding-window attention with a shared prefix")
        return "causal" if n > 1 else None


@attrs.frozen
class FastPaths:
    """Which exact shortcuts the loss may take for this model."""

    split_head: bool
    share_prefix: bool
    note: str


def _head(model: nn.Module) -> Callable[[mx.array], mx.array] | None:
    inner = getattr(model, "model", None)
    if inner is None:
        return None
    lm_head = getattr(model, "lm_head", None)
    if isinstance(lm_head, nn.Module):
        return lm_head
    embed = getattr(inner, "embed_tokens", None)
    if getattr(getattr(model, "args", None), "tie_word_embeddings", False) and embed is not None:
        return embed.as_linear
    return None


def batch_arrays(batch: Batch) -> tuple[Any, ...]:
    """The batch as mlx arrays, in the order `batch_loss` takes them."""
    return (
        mx.array(batch.prefix),
        [mx.array(suffix) for suffix in batch.suffixes],
        mx.array(batch.positions),
        mx.array(batch.targets),
        mx.array(batch.weights),
    )


def batch_loss(
    model: nn.Module,
    prefix: mx.array,
    suffixes: list[mx.array],
    positions: mx.array,
    targets: mx.array,
    weights: mx.array,
    *,
    split_head: bool = True,
    prefix_gradient: bool = True,
) -> mx.array:
    """Weighted cross-entropy of a batch: its share of the update's mean per-example loss.

    The prefix runs once and each example's suffix runs alone on top of it (no padding; a
    padded batch wastes more than it saves on CPU), all in one graph. Without
    `prefix_gradient` the prefix's keys and values are constants of the loss: the forward is
    the same, the backward skips the prefix.
    """
    cache = None
    if prefix.size:
        cache = [PrefixCache() for _ in model.layers]
        model(prefix[None], cache=cache)  # only the cached keys/values are used (lazily)
        if not prefix_gradient:
            for layer in cache:
                layer.detach()
    head = _head(model) if split_head else None
    if head is not None:
        hidden = mx.concatenate([model.model(s[None], cache=cache)[0] for s in suffixes])
        logits = head(hidden[positions])
    else:
        logits = mx.concatenate([model(s[None], cache=cache)[0] for s in suffixes])[positions]
    if numpy_exp.installed(model):
        losses = numpy_exp.cross_entropy(logits.astype(mx.float32), targets)
    else:
        losses = nn.losses.cross_entropy(logits.astype(mx.float32), targets)
    return (losses * weights).sum()


def _probe_examples(vocab: int) -> list[TokenizedExample]:
    rng = np.random.default_rng(0)
    shared = rng.integers(3, vocab, 20)
    examples = []
    for length in (9, 14):
        tokens = np.concatenate([shared, rng.integers(3, vocab, length)]).astype(np.int32)
        mask = np.zeros(len(tokens), dtype=bool)
        mask[-length // 2 :] = True
        examples.append(TokenizedExample(tokens, mask))
    return examples


def check_fast_paths(model: nn.Module, vocab_size: int) -> FastPaths:
    """Verify the split head and the shared prefix against the plain forward on a probe."""
    examples = _probe_examples(min(vocab_size, 1000))
    was_training = model.training
    model.eval()  # no dropout while comparing
    plain = batch_loss(
        model, *batch_arrays(make_batch(examples, 2, share_prefix=False)), split_head=False
    )
    notes = []

    def agrees(share_prefix: bool, split_head: bool) -> bool:
        batch = make_batch(examples, 2, share_prefix=share_prefix)
        try:
            value = batch_loss(model, *batch_arrays(batch), split_head=split_head)
            return bool(mx.allclose(value, plain, rtol=1e-4, atol=1e-5).item())
        except Exception as error:  # any model that does not fit the fast path
            notes.append(f"{type(error).__name__}: {error}")
            return False

    split_head = _head(model) is not None and agrees(False, True)
    share_prefix = agrees(True, split_head)
    model.train(was_training)
    parts = [
        "logits only on trained tokens" if split_head else "full logits (head not separable)",
        "shared prefix computed once" if share_prefix else "no prefix sharing",
    ]
    return FastPaths(split_head, share_prefix, "; ".join(parts + notes))
