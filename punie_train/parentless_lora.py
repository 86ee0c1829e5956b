"""A LoRA linear layer whose output keeps no graph behind it, for training with `numpy_exp`.

`numpy_exp` reads arrays into numpy in the middle of the traced forward, which evaluates
them early; inside `value_and_grad` mlx then keeps every evaluated array's inputs until the
backward ends. For mlx-lm's `LoRALinear` (`y = x @ W.T + scale * (x @ A) @ B`) that keeps the
frozen product `x @ W.T` and the LoRA terms of every layer, which one lazy evaluation frees:
about twice the memory of a training update (`results/speed-numpy-exp/`).

`lora_linear` is one `mx.custom_function`: its forward computes `y` and copies it into a
buffer with no graph, its backward is the exact LoRA gradient from the saved `x` (no gradient
for the frozen weight, which nothing asks for). With LoRA dropout the layer's dropped input
`z = dropout(x)` (mlx-lm's `Dropout`, the same random draws) is a second input:
`y = x @ W.T + scale * (z @ A) @ B`, and `z`'s gradient flows back through the dropout to
`x`. `make_parentless(model)` gives every float32 LoRA layer without bias this forward; the
parameters, their names and `fuse()` stay mlx-lm's.
"""

from __future__ import annotations

from typing import Any, cast

import mlx.core as mx
import mlx.nn as nn
from mlx_lm.tuner.lora import LoRALinear

from punie_runtime import numpy_exp


@mx.custom_function
def _lora_op(x: mx.array, weight: mx.array, a: mx.array, b: mx.array, scale: mx.array) -> mx.array:
    out = x @ weight.T + scale * ((x @ a) @ b)
    # A small output costs less kept than the evaluation (a sync) that copying it needs.
    return out if out.size < numpy_exp.SMALL else numpy_exp.parentless(out)


@_lora_op.vjp
def _lora_vjp(primals: Any, cotangent: mx.array, output: mx.array) -> tuple[mx.array, ...]:
    x, weight, a, b, scale = primals
    inner = cotangent @ b.T
    dx = cotangent @ weight + scale * (inner @ a.T)
    rows_x = x.reshape(-1, x.shape[-1])
    da = scale * (rows_x.T @ inner.reshape(-1, inner.shape[-1]))
    db = scale * ((rows_x @ a).T @ cotangent.reshape(-1, cotangent.shape[-1]))
    return dx, mx.zeros_like(weight), da, db, mx.zeros_like(scale)


@mx.custom_function
def _dropped_lora_op(
    x: mx.array, z: mx.array, weight: mx.array, a: mx.array, b: mx.array, scale: mx.array
) -> mx.array:
    out = x @ weight.T + scale * ((z @ a) @ b)
    return out if out.size < numpy_exp.SMALL else numpy_exp.parentless(out)


@_dropped_lora_op.vjp
def _dropped_lora_vjp(primals: Any, cotangent: mx.array, output: mx.array) -> tuple[mx.array, ...]:
    _, z, weight, a, b, scale = primals
    inner = cotangent @ b.T
    rows_z = z.reshape(-1, z.shape[-1])
    da = scale * (rows_z.T @ inner.reshape(-1, inner.shape[-1]))
    db = scale * ((rows_z @ a).T @ cotangent.reshape(-1, cotangent.shape[-1]))
    dz = scale * (inner @ a.T)
    return cotangent @ weight, dz, mx.zeros_like(weight), da, db, mx.zeros_like(scale)


def lora_linear(
    x: mx.array,
    weight: mx.array,
    a: mx.array,
    b: mx.array,
    scale: float,
    dropped: mx.array | None = None,
) -> mx.array:
    """`x @ weight.T + scale * (z @ a) @ b` (`z` = `dropped`, else `x`), parentless output.

    The backward is exact: with `dropped`, its gradient goes to `dropped` (and from there
    through whatever made it), the frozen product's to `x`.
    """
    scale_array = mx.array(scale, dtype=x.dtype)
    if dropped is None:
        return cast(mx.array, _lora_op(x, weight, a, b, scale_array))
    return cast(mx.array, _dropped_lora_op(x, dropped, weight, a, b, scale_array))


class ParentlessLoRALinear(LoRALinear):
    """mlx-lm's `LoRALinear` computed by `lora_linear` (same parameters, same fusing)."""

    def __call__(self, x: mx.array) -> mx.array:
        """The LoRA layer's output; see `lora_linear`."""
        weight, a, b = self.linear.weight, self.lora_a, self.lora_b
        if self.training and getattr(self.dropout, "_p_1", 1.0) < 1.0:
            return lora_linear(x, weight, a, b, self.scale, self.dropout(x))
        return lora_linear(x, weight, a, b, self.scale)


def _fits(layer: LoRALinear) -> bool:
    linear = layer.linear
    return (
        type(linear) is nn.Linear
        and "bias" not in linear
        and linear.weight.dtype == mx.float32
        and isinstance(layer.dropout, nn.Dropout)  # its `_p_1` (1 - p) says if it drops
    )


def make_parentless(model: nn.Module) -> int:
    """Give every plain float32 `LoRALinear` of `model` the parentless forward; how many."""
    count = 0
    for _, module in model.named_modules():
        if type(module) is LoRALinear and _fits(module):
            module.__class__ = ParentlessLoRALinear
            count += 1
    return count
