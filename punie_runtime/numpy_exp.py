"""Softmax, sigmoid, cross-entropy and RoPE without mlx's scalar transcendentals, on the CPU.

mlx 0.32's CPU backend computes `exp`, `sin` and `cos` one element at a time (its x86 SIMD
width is 1): ~32 ns per `exp` here, so the attention softmax and SwiGLU's sigmoid were ~50%
of a training update (`results/speed-profile/`). numpy's float32 `exp` uses AVX2/AVX-512:
on 15 M elements `mx.exp` takes ~0.49 s, `np.exp` ~0.02 s (`results/speed-numpy-exp/`).

Each exp op is an `mx.custom_function`: the forward runs in numpy on the evaluated input and
writes into a fresh mlx buffer (no copy back), the backward is plain mlx arithmetic on the
saved output (no `exp`), so values and gradients equal mlx's up to float rounding. RoPE reads
cos/sin from a table computed once instead of evaluating them per element.

`install(model)` points the model's mlx-lm module at `attention` and `swiglu` below (a
process-wide switch for that architecture, e.g. every llama model) and gives each of its
layers a `TableRoPE`; `uninstall(model)` restores mlx-lm's own.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any, cast

import mlx.core as mx
import mlx.nn as nn
import numpy as np

PATCHED_NAMES = ("scaled_dot_product_attention", "swiglu")
"""The module-level functions of an mlx-lm model module that `install` replaces."""

SMALL: int = 1 << 14
"""Ops on fewer elements stay in mlx: reading an array into numpy evaluates it (a sync of the
stream), which costs more than a scalar exp of that size, e.g. in a decode step."""

MASKED = -1e30
"""The score of a position attention may not see (exp gives exactly 0 after the shift)."""

_originals: dict[tuple[str, str], Any] = {}
_causal_masks: dict[tuple[int, int], mx.array] = {}
_rope_tables: dict[tuple[int, float, float], tuple[mx.array, mx.array]] = {}


def _as_numpy(x: mx.array) -> np.ndarray:
    """A float32 numpy view of `x` (evaluates it; copies only to convert the dtype)."""
    if x.dtype != mx.float32:
        x = x.astype(mx.float32)
    return np.asarray(x)


def _filled(shape: tuple[int, ...], value: float) -> tuple[mx.array, np.ndarray]:
    """A new evaluated float32 mlx array and a writable numpy view of its buffer.

    Writing through the view is safe because nothing else holds the array yet; it saves the
    copy `mx.array(numpy_result)` would make (40 ms for 52 MB here).
    """
    out = mx.full(shape, value, dtype=mx.float32)
    mx.eval(out)
    return out, np.asarray(out)


def parentless(x: mx.array) -> mx.array:
    """`x` copied into a fresh float32 buffer with no graph behind it.

    Inside `value_and_grad` mlx keeps every evaluated array's inputs alive; a custom op's
    output computed with mlx ops would keep the op's whole inner graph (for attention: the
    scores and weights of every layer) until the backward ends.
    """
    out, view = _filled(x.shape, 0.0)
    np.copyto(view, _as_numpy(x))
    return out


def _back(out: mx.array, like: mx.array) -> mx.array:
    return out if like.dtype == mx.float32 else out.astype(like.dtype)


@mx.custom_function
def _sigmoid_op(x: mx.array) -> mx.array:
    """1 / (1 + exp(-x)), elementwise."""
    if x.size < SMALL:
        return mx.sigmoid(x)
    out, view = _filled(x.shape, 0.0)
    np.negative(_as_numpy(x), out=view)
    with np.errstate(over="ignore"):  # exp(-x) = inf for x << 0 gives the right 0
        np.exp(view, out=view)
    view += 1.0
    np.reciprocal(view, out=view)
    return _back(out, x)


@_sigmoid_op.vjp
def _sigmoid_vjp(primals: Any, cotangent: mx.array, output: mx.array) -> tuple[mx.array]:
    return (cotangent * output * (1.0 - output),)


def _softmax_into(view: np.ndarray) -> None:
    """Softmax over the last axis of `view`, in place."""
    view -= view.max(axis=-1, keepdims=True)
    np.exp(view, out=view)
    view /= view.sum(axis=-1, keepdims=True)


_ALL = mx.array(True)
"""A mask that lets every query see every key."""


def _masked_softmax_numpy(x: mx.array, allowed: mx.array) -> mx.array:
    """Float32 softmax over the last axis of `x` where `allowed` (broadcast), in numpy."""
    out, view = _filled(x.shape, MASKED)
    np.copyto(view, _as_numpy(x), where=np.asarray(allowed))
    _softmax_into(view)
    return out


@mx.custom_function
def _softmax_op(x: mx.array) -> mx.array:
    """Softmax over the last axis."""
    if x.size < SMALL:
        return mx.softmax(x, axis=-1)
    return _back(_masked_softmax_numpy(x, _ALL), x)


@mx.custom_function
def _masked_softmax_op(x: mx.array, allowed: mx.array) -> mx.array:
    """Softmax over the last axis of `x` where the boolean `allowed` (broadcast) is True."""
    if x.size < SMALL:
        return mx.softmax(mx.where(allowed, x, MASKED), axis=-1)
    return _back(_masked_softmax_numpy(x, allowed), x)


def _softmax_gradient(cotangent: mx.array, output: mx.array) -> mx.array:
    weighted = cotangent * output
    return weighted - output * weighted.sum(axis=-1, keepdims=True)


@_softmax_op.vjp
def _softmax_vjp(primals: Any, cotangent: mx.array, output: mx.array) -> tuple[mx.array]:
    return (_softmax_gradient(cotangent, output),)


@_masked_softmax_op.vjp
def _masked_softmax_vjp(
    primals: Any, cotangent: mx.array, output: mx.array
) -> tuple[mx.array, mx.array]:
    return _softmax_gradient(cotangent, output), mx.zeros_like(primals[1])


def _probabilities(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(softmax rows, log-sum-exp per row) of a 2-D float32 array."""
    peak = values.max(axis=-1, keepdims=True)
    shifted = np.subtract(values, peak)
    np.exp(shifted, out=shifted)
    total = shifted.sum(axis=-1, keepdims=True)
    shifted /= total
    return shifted, (np.log(total) + peak)[:, 0]


@mx.custom_function
def _cross_entropy_op(logits: mx.array, targets: mx.array) -> mx.array:
    """Per-row cross-entropy of 2-D `logits` against integer `targets` (no reduction)."""
    values = _as_numpy(logits)
    _, lse = _probabilities(values)
    picked = values[np.arange(values.shape[0]), np.asarray(targets)]
    return mx.array(lse - picked)


@_cross_entropy_op.vjp
def _cross_entropy_vjp(
    primals: Any, cotangent: mx.array, output: mx.array
) -> tuple[mx.array, mx.array]:
    logits, targets = primals
    probabilities, _ = _probabilities(_as_numpy(logits))
    probabilities[np.arange(probabilities.shape[0]), np.asarray(targets)] -= 1.0
    grad = _back(mx.array(probabilities), logits) * cotangent[:, None]
    return grad, mx.zeros_like(targets)


def sigmoid(x: mx.array) -> mx.array:
    """1 / (1 + exp(-x)), elementwise (exact gradient)."""
    return cast(mx.array, _sigmoid_op(x))


def softmax(x: mx.array) -> mx.array:
    """Softmax over the last axis (exact gradient)."""
    return cast(mx.array, _softmax_op(x))


def masked_softmax(x: mx.array, allowed: mx.array) -> mx.array:
    """Softmax over the last axis of `x` where the boolean `allowed` (broadcast) is True."""
    return cast(mx.array, _masked_softmax_op(x, allowed))


def cross_entropy(logits: mx.array, targets: mx.array) -> mx.array:
    """Per-row cross-entropy of 2-D `logits` against integer `targets` (no reduction)."""
    return cast(mx.array, _cross_entropy_op(logits, targets))


def swiglu(gate: mx.array, x: mx.array) -> mx.array:
    """SiLU(gate) * x, mlx-lm's SwiGLU, with the sigmoid above."""
    return gate * sigmoid(gate) * x


def _causal(length: int, span: int) -> mx.array:
    """(length, span) booleans: query i sees keys up to i + span - length (the cache's end)."""
    mask = _causal_masks.get((length, span))
    if mask is None:
        mask = mx.arange(span)[None, :] <= mx.arange(length)[:, None] + (span - length)
        mx.eval(mask)
        if len(_causal_masks) > 256:
            _causal_masks.clear()
        _causal_masks[(length, span)] = mask
    return mask


def _weights(grouped: mx.array, keys: mx.array, allowed: mx.array) -> mx.array:
    """softmax(grouped @ keys^T) where `allowed`, the softmax in numpy.

    In float32 the softmax runs in place in the scores' own fresh buffer (no fill, no copy).
    """
    scores = grouped @ mx.swapaxes(keys, -1, -2)[:, :, None]
    if scores.dtype != mx.float32:
        return _masked_softmax_numpy(scores, allowed)
    mx.eval(scores)
    view = np.asarray(scores)
    if allowed.ndim:  # the 0-d `_ALL` blocks nothing
        np.copyto(view, MASKED, where=np.logical_not(np.asarray(allowed)))
    _softmax_into(view)
    return scores


@mx.custom_function
def _attention_op(
    grouped: mx.array, keys: mx.array, values: mx.array, allowed: mx.array
) -> mx.array:
    return parentless(_weights(grouped, keys, allowed) @ values[:, :, None])


@_attention_op.vjp
def _attention_vjp(
    primals: Any, cotangent: mx.array, output: mx.array
) -> tuple[mx.array, mx.array, mx.array, mx.array]:
    grouped, keys, values, allowed = primals
    weights = _weights(grouped, keys, allowed)  # recomputed: neither scores nor weights kept
    values_grad = (mx.swapaxes(weights, -1, -2) @ cotangent).sum(axis=2)
    # The softmax's vjp stays lazy mlx: evaluating here, mid-backward, would keep every later
    # layer's LoRA output gradients alive until the end (a measured 2.8x peak memory).
    scores_grad = _softmax_gradient(cotangent @ mx.swapaxes(values, -1, -2)[:, :, None], weights)
    grouped_grad = scores_grad @ keys[:, :, None]
    keys_grad = (mx.swapaxes(scores_grad, -1, -2) @ grouped).sum(axis=2)
    return grouped_grad, keys_grad, values_grad, mx.zeros_like(allowed)


def grouped_attention(
    grouped: mx.array, keys: mx.array, values: mx.array, allowed: mx.array
) -> mx.array:
    """softmax(grouped @ keys^T where `allowed`) @ values for queries (B, kv, group, L, D).

    One custom op whose backward recomputes the weights (a numpy softmax is cheap), so the
    graph keeps neither scores nor weights: a 1,000-token chat's are ~50 MB per layer each,
    and keeping them took a training update from 8 to 18 GB.
    """
    return cast(mx.array, _attention_op(grouped, keys, values, allowed))


def attention(
    queries: mx.array,
    keys: mx.array,
    values: mx.array,
    cache: Any,
    scale: float,
    mask: Any,
    sinks: mx.array | None = None,
) -> mx.array:
    """mlx-lm's `scaled_dot_product_attention` as matmuls around the softmax above.

    Grouped-query heads are matched by reshaping, not copying; `mask` is None, "causal"
    (aligned to the end of the keys, as mlx-lm's caches make it), a boolean array (True
    attends) or an additive one. Small ones (below `SMALL` scores per row of the batch),
    quantized caches and attention sinks go to mlx-lm's own.
    """
    small = queries.shape[1] * queries.shape[2] * keys.shape[2] < SMALL  # e.g. a decode step
    if small or sinks is not None or hasattr(cache, "bits"):
        from mlx_lm.models.base import scaled_dot_product_attention

        return scaled_dot_product_attention(
            queries, keys, values, cache=cache, scale=scale, mask=mask, sinks=sinks
        )
    batch, heads, length, depth = queries.shape
    kv_heads, span = keys.shape[1], keys.shape[2]
    grouped = (queries * scale).reshape(batch, kv_heads, heads // kv_heads, length, depth)
    if isinstance(mask, str) and length > 1:
        out = grouped_attention(grouped, keys, values, _causal(length, span))
    elif mask is None or isinstance(mask, str):
        out = grouped_attention(grouped, keys, values, _ALL)
    elif mask.dtype == mx.bool_:
        out = grouped_attention(grouped, keys, values, _grouped_mask(mask, kv_heads))
    else:  # an additive mask: rare (mlx-lm's llama makes boolean ones), kept simple
        scores = grouped @ mx.swapaxes(keys, -1, -2)[:, :, None]
        out = softmax(scores + _grouped_mask(mask, kv_heads)) @ values[:, :, None]
    return out.reshape(batch, heads, length, values.shape[-1])


def _grouped_mask(mask: mx.array, kv_heads: int) -> mx.array:
    """A (..., L, S) mask broadcast to the grouped (B, kv, group, L, S) scores."""
    if mask.ndim == 4 and mask.shape[1] > 1:
        return mask.reshape(mask.shape[0], kv_heads, -1, *mask.shape[-2:])
    return mask if mask.ndim < 4 else mask[:, :, None]


def _rope_table(dims: int, base: float, scale: float, length: int) -> tuple[mx.array, mx.array]:
    """cos and sin of every position below `length` (at least) and frequency, float32."""
    key = (dims, base, scale)
    table = _rope_tables.get(key)
    if table is None or table[0].shape[0] < length:
        size = max(4096, 1 << max(0, length - 1).bit_length())
        frequencies = base ** (-np.arange(0, dims, 2, dtype=np.float64) / dims)
        angles = (np.arange(size, dtype=np.float64) * scale)[:, None] * frequencies[None]
        table = (
            mx.array(np.cos(angles).astype(np.float32)),
            mx.array(np.sin(angles).astype(np.float32)),
        )
        mx.eval(table)
        _rope_tables[key] = table
    return table


class TableRoPE(nn.RoPE):
    """mlx's `RoPE` (non-traditional) with cos/sin read from a table, not computed per call."""

    def __call__(self, x: mx.array, offset: Any = 0) -> mx.array:
        """Rotate the first `dims` features of each position, counting from `offset`."""
        if self.traditional or not isinstance(offset, int):
            return super().__call__(x, offset)
        length, half = x.shape[-2], self.dims // 2
        cos, sin = _rope_table(self.dims, self.base, self.scale, offset + length)
        cos, sin = cos[offset : offset + length], sin[offset : offset + length]
        first, second = x[..., :half], x[..., half : self.dims]
        parts = [first * cos - second * sin, first * sin + second * cos]
        if x.shape[-1] > self.dims:
            parts.append(x[..., self.dims :])
        return mx.concatenate(parts, axis=-1).astype(x.dtype)


_REPLACEMENTS: dict[str, Any] = {
    "scaled_dot_product_attention": attention,
    "swiglu": swiglu,
}


def _model_module(model: nn.Module) -> ModuleType:
    return sys.modules[type(model).__module__]


def _attention_layers(model: nn.Module) -> list[Any]:
    layers = getattr(model, "layers", None) or []
    return [layer.self_attn for layer in layers if hasattr(layer, "self_attn")]


def install(model: nn.Module) -> tuple[str, ...]:
    """Use the numpy ops in `model`'s mlx-lm module; the names replaced (empty: none fit)."""
    module = _model_module(model)
    replaced = []
    for name in PATCHED_NAMES:
        current = getattr(module, name, None)
        if current is None:
            continue
        if current is not _REPLACEMENTS[name]:
            _originals[(module.__name__, name)] = current
            setattr(module, name, _REPLACEMENTS[name])
        replaced.append(name)
    for attention_layer in _attention_layers(model):
        rope = getattr(attention_layer, "rope", None)
        if type(rope) is nn.RoPE and not rope.traditional:
            attention_layer.rope = TableRoPE(rope.dims, False, rope.base, rope.scale)
    return tuple(replaced)


def uninstall(model: nn.Module) -> None:
    """Give `model`'s module back mlx-lm's own attention and SwiGLU, its layers mlx's RoPE."""
    module = _model_module(model)
    for name in PATCHED_NAMES:
        saved = _originals.pop((module.__name__, name), None)
        if saved is not None:
            setattr(module, name, saved)
    for attention_layer in _attention_layers(model):
        rope = getattr(attention_layer, "rope", None)
        if type(rope) is TableRoPE:
            attention_layer.rope = nn.RoPE(rope.dims, False, rope.base, rope.scale)


def installed(model: nn.Module) -> bool:
    """Whether `model`'s module uses the numpy ops now."""
    module = _model_module(model)
    return any(getattr(module, name, None) is _REPLACEMENTS[name] for name in PATCHED_NAMES)
