"""Tests for the parentless LoRA layer: mlx-lm's values, gradients and fusing; where it applies."""

from __future__ import annotations

from typing import Any

import mlx.core as mx
import mlx.nn as nn
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlx.utils import tree_flatten
from mlx_lm.tuner.lora import LoRALinear

from punie_runtime import numpy_exp
from punie_train.config import LoraParameters, TrainConfig
from punie_train.parentless_lora import ParentlessLoRALinear, lora_linear, make_parentless
from punie_train.trainer import apply_adapters
from tests.train.arrays import close

pytestmark = pytest.mark.usefixtures("numpy_every_size")


class TwoLayers(nn.Module):
    """Two LoRA layers with a nonlinearity between them, LoRA B not zero."""

    def __init__(self, dims: int, rank: int, scale: float) -> None:
        super().__init__()
        self.first = LoRALinear.from_base(
            nn.Linear(dims, 2 * dims, bias=False), r=rank, scale=scale
        )
        self.second = LoRALinear.from_base(nn.Linear(2 * dims, 3, bias=False), r=rank, scale=scale)
        for layer in (self.first, self.second):
            layer.lora_b = mx.random.normal(layer.lora_b.shape) * 0.1
        self.freeze()
        self.unfreeze(keys=["lora_a", "lora_b"])

    def __call__(self, x: mx.array) -> mx.array:
        return self.second(nn.silu(self.first(x)))


def loss_and_gradient(model: nn.Module, x: mx.array) -> tuple[float, dict[str, mx.array]]:
    """The squared output's sum and its gradient over the LoRA parameters."""
    loss, grads = nn.value_and_grad(model, lambda m, v: (m(v) ** 2).sum())(model, x)
    return loss.item(), dict(tree_flatten(grads))


def assert_same(
    loss: float, grads: dict[str, mx.array], plain_loss: float, plain_grads: dict[str, mx.array]
) -> None:
    """The loss within float rounding, every gradient close, no parameter missing or extra."""
    assert abs(loss - plain_loss) <= 1e-5 * max(1.0, abs(plain_loss))
    assert grads.keys() == plain_grads.keys()
    assert all(close(grads[k], plain_grads[k], 1e-4) for k in grads)


@settings(max_examples=15, deadline=None)
@given(
    rows=st.integers(1, 3),
    length=st.integers(1, 7),
    dims=st.integers(2, 24),
    rank=st.integers(1, 4),
    scale=st.floats(0.5, 32.0),
    seed=st.integers(0, 2**16),
)
def test_values_and_gradients_equal_mlx_lm(
    rows: int, length: int, dims: int, rank: int, scale: float, seed: int
) -> None:
    mx.random.seed(seed)
    model = TwoLayers(dims, rank, scale)
    x = mx.random.normal((rows, length, dims))
    plain_out = model(x)
    plain_loss, plain_grads = loss_and_gradient(model, x)
    assert make_parentless(model) == 2
    assert close(model(x), plain_out)
    loss, grads = loss_and_gradient(model, x)
    assert_same(loss, grads, plain_loss, plain_grads)


def test_the_output_keeps_no_graph_and_the_input_gets_its_gradient() -> None:
    mx.random.seed(0)
    x = mx.random.normal((4, 6))
    weight, a, b = mx.random.normal((5, 6)), mx.random.normal((6, 2)), mx.random.normal((2, 5))
    plain = mx.grad(lambda v: ((v @ weight.T + 3.0 * (v @ a) @ b) ** 2).sum())(x)
    ours = mx.grad(lambda v: (lora_linear(v, weight, a, b, 3.0) ** 2).sum())(x)
    assert close(ours, plain, 1e-4)


def test_small_outputs_stay_in_the_graph_with_the_same_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mx.random.seed(1)
    x = mx.random.normal((2, 3, 6))
    weight, a, b = mx.random.normal((5, 6)), mx.random.normal((6, 2)), mx.random.normal((2, 5))
    copied = lora_linear(x, weight, a, b, 2.0)
    monkeypatch.setattr(numpy_exp, "SMALL", 1 << 14)
    kept = lora_linear(x, weight, a, b, 2.0)
    assert close(kept, copied) and close(kept, x @ weight.T + 2.0 * (x @ a) @ b)


def test_layers_with_bias_keep_mlx_lm_s_forward() -> None:
    dropped = LoRALinear.from_base(nn.Linear(4, 4, bias=False), r=2, dropout=0.1)
    biased = LoRALinear.from_base(nn.Linear(4, 4, bias=True), r=2)
    plain = LoRALinear.from_base(nn.Linear(4, 4, bias=False), r=2)
    model = nn.Sequential(dropped, biased, plain)
    assert make_parentless(model) == 2
    assert type(biased) is LoRALinear
    assert type(dropped) is ParentlessLoRALinear and type(plain) is ParentlessLoRALinear


class DroppedTwoLayers(TwoLayers):
    """`TwoLayers` with LoRA dropout on both layers."""

    def __init__(self, dims: int, rank: int, scale: float, p: float) -> None:
        super().__init__(dims, rank, scale)
        for layer in (self.first, self.second):
            layer.dropout = nn.Dropout(p)


@settings(max_examples=15, deadline=None)
@given(
    length=st.integers(1, 7),
    dims=st.integers(2, 24),
    p=st.floats(0.05, 0.5),
    seed=st.integers(0, 2**16),
)
def test_dropout_draws_the_same_masks_and_gradients_as_mlx_lm(
    length: int, dims: int, p: float, seed: int
) -> None:
    mx.random.seed(seed)
    model = DroppedTwoLayers(dims, 2, 4.0, p)
    x = mx.random.normal((2, length, dims))
    mx.random.seed(seed + 1)
    plain_loss, plain_grads = loss_and_gradient(model, x)
    assert make_parentless(model) == 2
    mx.random.seed(seed + 1)
    loss, grads = loss_and_gradient(model, x)
    assert_same(loss, grads, plain_loss, plain_grads)


def test_dropout_drops_in_training_and_is_off_in_evaluation() -> None:
    mx.random.seed(3)
    model = DroppedTwoLayers(6, 2, 4.0, 0.5)
    x = mx.random.normal((2, 5, 6))
    model.eval()
    plain = model(x)
    make_parentless(model)
    assert close(model(x), plain)
    model.train()
    assert not close(model(x), plain)


def test_the_dropped_input_gets_the_lora_gradient_and_x_the_frozen_one() -> None:
    mx.random.seed(2)
    x = mx.random.normal((4, 6))
    mask = (mx.random.uniform(shape=(4, 6)) > 0.3).astype(mx.float32)
    weight, a, b = mx.random.normal((5, 6)), mx.random.normal((6, 2)), mx.random.normal((2, 5))

    def plain(v: mx.array) -> mx.array:
        return ((v @ weight.T + 3.0 * ((v * mask) @ a) @ b) ** 2).sum()

    def ours(v: mx.array) -> mx.array:
        return (lora_linear(v, weight, a, b, 3.0, v * mask) ** 2).sum()

    assert close(mx.grad(ours)(x), mx.grad(plain)(x), 1e-4)


def test_training_with_numpy_exp_uses_it_and_fuses_as_mlx_lm(tiny: tuple[Any, Any]) -> None:
    model, _ = tiny
    numpy_exp.install(model)
    try:
        apply_adapters(model, TrainConfig(num_layers=2, lora_parameters=LoraParameters(rank=2)))
        layers = [m for _, m in model.named_modules() if isinstance(m, LoRALinear)]
        assert layers and all(type(m) is ParentlessLoRALinear for m in layers)
        for layer in layers:
            layer.lora_b = mx.random.normal(layer.lora_b.shape) * 0.05
        fused = model.layers[-1].self_attn.q_proj.fuse()
        assert isinstance(fused, nn.Linear)
        x = mx.random.normal((2, fused.weight.shape[1]))
        assert close(fused(x), model.layers[-1].self_attn.q_proj(x), 1e-4)
    finally:
        numpy_exp.uninstall(model)


def test_training_without_numpy_exp_keeps_mlx_lm_s_layer(tiny: tuple[Any, Any]) -> None:
    model, _ = tiny
    numpy_exp.uninstall(model)
    apply_adapters(model, TrainConfig(num_layers=2, lora_parameters=LoraParameters(rank=2)))
    layers = [m for _, m in model.named_modules() if isinstance(m, LoRALinear)]
    assert layers and all(type(m) is LoRALinear for m in layers)
