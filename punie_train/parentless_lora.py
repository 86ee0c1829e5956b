"""A LoRA linear layer whose output keeps no graph behind it, for training with `numpy_exp`.

`numpy_exp` reads arrays into numpy in the middle of the traced forward, which evaluates
them early; inside `value_and_grad` mlx then keeps every evaluated array's inputs until the
backward ends. For mlx-lm's `LoRALinear` (`y = x @ W.T + scale * (x @ A) @ B`) that keeps the
frozen product `x @ W.T` and the LoRA terms of every layer, which one lazy evaluation frees:
about twice the memory of a training update (`results/speed-numpy-exp/`).

`lora_linear` is one `mx.custom_function`: its forward computes `y` and copies it into a
buffer with no graph, its backward is the exact LoRA gradient from the saved `x` (no gradient
for the frozen weight, which nothing asks for). `make_parentless(model)` gives every plain
float LoRA layer (no dropout, no bias) this forward; the parameters, their names and
`fuse()` stay mlx-lm's.
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


def lora_linear(x: mx.array, weight: mx.array, a: mx.array, b: mx.array, scale: float) -> mx.array:
    """`x @ weight.T + scale * (x @ a) @ b` with a parentless output and the exact backward."""
    return cast(mx.array, _lora_op(x, weight, a, b, mx.array(scale, dtype=x.dtype)))


class ParentlessLoRALinear(LoRALinear):
    """mlx-lm's `LoRALinear` computed by `lora_linear` (same parameters, same fusing)."""

    def __call__(self, x: mx.array) -> mx.array:
        """The LoRA layer's output; see `lora_linear`."""
        return lora_linear(x, self.linear.weight, self.lora_a, self.lora_b, self.scale)


def _fits(layer: LoRALinear) -> bool:
    linear = layer.linear
    return (
        type(linear) is nn.Linear
        and "bias" not in linear
        and linear.weight.dtype == mx.float32
        and getattr(layer.dropout, "_p_1", 0.0) == 1.0  # mlx's Dropout keeps 1 - p
    )


def make_parentless(model: nn.Module) -> int:
    """Give every plain float32 `LoRALinear` of `model` the parentless forward; how many."""
    count = 0
    for _, module in model.named_modules():
        if type(module) is LoRALinear and _fits(module):
            module.__class__ = ParentlessLoRALinear
            count += 1
    return count
