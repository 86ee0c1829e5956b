"""The optimizer step's gradient clipping and the gradient norm it logs."""

from __future__ import annotations

import math
from typing import cast

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from mlx.utils import tree_flatten

from punie_train.step import LoopState, _step_and_record, clip_gradient


def norm_of(tree: object) -> float:
    """Global L2 norm of an mlx array tree, in numpy float64."""
    return math.sqrt(
        sum(float(np.square(np.array(g, np.float64)).sum()) for _, g in tree_flatten(tree))
    )


def test_clip_scales_the_gradient_down_to_the_limit() -> None:
    """A (3, 4) gradient (norm 5) clipped to 1 keeps its direction at norm 1; 0 means off."""
    grads = {"a": mx.array([3.0]), "b": {"c": mx.array([4.0])}}
    clipped, norm = clip_gradient(grads, 1.0)
    assert norm.item() == 5.0
    assert np.allclose(np.array(clipped["a"]), [0.6]) and np.allclose(
        np.array(clipped["b"]["c"]), [0.8]
    )
    same, norm = clip_gradient(grads, 0.0)
    assert same is grads and norm.item() == 5.0


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(st.floats(-100, 100, allow_nan=False, width=32), min_size=1, max_size=20),
    limit=st.floats(0.01, 50.0),
)
def test_clipped_norm_is_the_smaller_of_norm_and_limit(values: list[float], limit: float) -> None:
    """After clipping the global norm is min(norm, limit); the reported norm is the original."""
    half = len(values) // 2
    grads = {"x": mx.array(values[:half] or [0.0]), "y": [mx.array(values[half:])]}
    clipped, norm = clip_gradient(grads, limit)
    original = norm_of(grads)
    assert math.isclose(float(cast(float, norm.item())), original, rel_tol=1e-5, abs_tol=1e-6)
    assert math.isclose(norm_of(clipped), min(original, limit), rel_tol=1e-4, abs_tol=1e-5)


def test_step_applies_the_clipped_gradient_and_logs_the_norm() -> None:
    """With SGD the parameter moves by lr times the clipped gradient; the log keeps the norm."""
    model = nn.Linear(2, 1, bias=False)
    model.weight = mx.array([[1.0, 1.0]])
    optimizer = optim.SGD(learning_rate=0.5)
    grads = {"weight": mx.array([[6.0, 8.0]])}  # norm 10
    loop = LoopState(update=0, iteration=0, best=None)
    _step_and_record(model, optimizer, grads, mx.array(1.0), loop, 1, max_grad_norm=2.0)
    assert np.allclose(np.array(model.weight), [[1.0 - 0.5 * 1.2, 1.0 - 0.5 * 1.6]])
    assert loop.window_grad_norms == [10.0] and loop.update == 1 and loop.iteration == 1
