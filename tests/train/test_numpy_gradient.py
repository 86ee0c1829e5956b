"""Tests for the numpy loss and LoRA gradient: equal to mlx's value_and_grad, and its limits."""

from __future__ import annotations

from typing import Any

import mlx.core as mx
import mlx.nn as nn
import numpy as np
import pytest
from mlx.utils import tree_flatten, tree_map
from mlx_lm.models.llama import Model, ModelArgs
from mlx_lm.tuner.utils import linear_to_lora_layers

from punie_runtime import numpy_exp
from punie_train.config import TrainConfig
from punie_train.dataset import TokenizedExample, make_batch
from punie_train.forward import batch_arrays, batch_loss
from punie_train.numpy_gradient import NumpyGradient, unsupported
from punie_train.parentless_lora import make_parentless
from punie_train.step import gradient_function

VOCAB = 120


def _model(
    layers: int = 3, adapted: int = 3, dropout: float = 0.0, keys: list[str] | None = None
) -> Model:
    args = ModelArgs(
        model_type="llama",
        hidden_size=64,
        num_hidden_layers=layers,
        intermediate_size=96,
        num_attention_heads=4,
        num_key_value_heads=2,
        rms_norm_eps=1e-5,
        vocab_size=VOCAB,
        rope_theta=10000.0,
        tie_word_embeddings=True,
    )
    mx.random.seed(1)
    model = Model(args)
    model.freeze()
    lora: dict[str, Any] = {"rank": 4, "scale": 5.0, "dropout": dropout}
    if keys is not None:
        lora["keys"] = keys
    linear_to_lora_layers(model, adapted, lora)
    rng = np.random.default_rng(0)
    model.update(
        tree_map(
            lambda p: mx.array(rng.normal(0, 0.1, p.shape).astype(np.float32)),
            model.trainable_parameters(),
        )
    )
    return model


def _examples() -> list[TokenizedExample]:
    rng = np.random.default_rng(3)
    shared = rng.integers(3, VOCAB, 20)
    examples = []
    for length in (9, 14, 5):
        tokens = np.concatenate([shared, rng.integers(3, VOCAB, length)]).astype(np.int32)
        mask = np.zeros(len(tokens), dtype=bool)
        mask[-length // 2 - 1 :] = True
        weights = np.where(mask, rng.uniform(0.5, 2.0, len(tokens)), 0).astype(np.float32)
        weights[0] = 0
        examples.append(TokenizedExample(tokens, mask, weights / weights.sum()))
    return examples


def _worst_difference(ours: Any, theirs: Any) -> float:
    mine, reference = dict(tree_flatten(ours)), dict(tree_flatten(theirs))
    assert mine.keys() == reference.keys()
    return max(
        float(np.abs(np.asarray(mine[k]) - np.asarray(reference[k])).max())
        / float(np.abs(np.asarray(reference[k])).max())
        for k in reference
    )


@pytest.mark.parametrize("share_prefix", [True, False])
@pytest.mark.parametrize("prefix_gradient", [True, False])
@pytest.mark.parametrize("exp_ops", [False, True])
def test_loss_and_gradient_equal_mlx_s(
    share_prefix: bool, prefix_gradient: bool, exp_ops: bool
) -> None:
    model = _model()
    if exp_ops:  # the trainer's mlx path on the CPU
        numpy_exp.install(model)
        make_parentless(model)
    batch = batch_arrays(make_batch(_examples(), 3, share_prefix=share_prefix))
    assert (batch[0].size > 0) == share_prefix
    expected_loss, expected = nn.value_and_grad(model, batch_loss)(
        model, *batch, prefix_gradient=prefix_gradient
    )
    loss, gradient = NumpyGradient(model)(model, *batch, prefix_gradient=prefix_gradient)
    assert abs(loss.item() - expected_loss.item()) <= 1e-5 * abs(expected_loss.item())
    assert _worst_difference(gradient, expected) < 1e-4


def test_detaching_the_prefix_changes_the_gradient() -> None:
    model = _model()
    batch = batch_arrays(make_batch(_examples(), 3))
    exact = NumpyGradient(model)(model, *batch, prefix_gradient=True)[1]
    detached = NumpyGradient(model)(model, *batch, prefix_gradient=False)[1]
    assert _worst_difference(detached, exact) > 1e-3


def test_some_layers_and_some_projections_adapted() -> None:
    model = _model(layers=3, adapted=2, keys=["self_attn.v_proj", "mlp.down_proj"])
    batch = batch_arrays(make_batch(_examples(), 3))
    expected = nn.value_and_grad(model, batch_loss)(model, *batch)[1]
    gradient = NumpyGradient(model)(model, *batch)[1]
    assert len(tree_flatten(gradient)) == 2 * 2 * 2
    assert _worst_difference(gradient, expected) < 1e-4


def test_the_same_inputs_give_the_same_bits() -> None:
    model = _model()
    batch = batch_arrays(make_batch(_examples(), 3))
    first = tree_flatten(NumpyGradient(model)(model, *batch)[1])
    second = tree_flatten(NumpyGradient(model)(model, *batch)[1])
    for (_, a), (_, b) in zip(first, second, strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b))


def test_models_it_cannot_train_are_named() -> None:
    assert unsupported(_model()) is None
    assert "LoRA dropout" in str(unsupported(_model(dropout=0.1)))
    frozen = _model()
    frozen.freeze()
    assert "frozen LoRA matrices" in str(unsupported(frozen))
    with pytest.raises(ValueError, match="LoRA dropout"):
        NumpyGradient(_model(dropout=0.1))


def test_the_trainer_falls_back_to_mlx_and_says_why() -> None:
    _, note = gradient_function(_model(), TrainConfig())
    assert note == "gradient in numpy"
    function, note = gradient_function(_model(dropout=0.1), TrainConfig())
    assert not isinstance(function, NumpyGradient)
    assert note.startswith("gradient in mlx (") and "dropout" in note
    _, note = gradient_function(_model(), TrainConfig(numpy_gradient=False))
    assert note == "gradient in mlx"
    _, note = gradient_function(_model(), TrainConfig(grad_checkpoint=True))
    assert note.startswith("gradient in mlx (grad_checkpoint")
