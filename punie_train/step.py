"""The pieces of a training step: adapters, optimizer, one optimizer update, validation loss.

`run_update` takes the next update's examples from the seeded stream, runs them as one loss
(`punie_train.forward.batch_loss`, split only past `TOKENS_PER_PASS` tokens), applies the
optimizer and records the finished update in `LoopState.committed`, which is what a
checkpoint saves: a Ctrl-C in the middle of an update loses that update, nothing else.

Under `mlx.launch` (a `punie_train.distributed.World` of several ranks) each rank runs its
share of the update's examples, weighed by the global update size, and the gradients, the
loss and the token counts are summed over the ranks before the optimizer step; the validation
loss is sharded and summed the same way. One process takes the unchanged one-rank path.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Sequence
from typing import Any, cast

import attrs
import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np
from mlx.utils import tree_flatten, tree_map
from mlx_lm.tuner.utils import build_schedule, linear_to_lora_layers

from punie_runtime import numpy_exp
from punie_train import numpy_gradient
from punie_train.checkpoint import Best, trainable_weights
from punie_train.config import TrainConfig
from punie_train.dataset import TokenizedExample, TokenizedSplit, split_batches
from punie_train.distributed import World
from punie_train.forward import FastPaths, batch_arrays, batch_loss
from punie_train.parentless_lora import make_parentless
from punie_train.sampling import update_group

TOKENS_PER_PASS = 3072
"""Tokens per loss call before an update is split (bounds the activations kept for backward)."""
_OPTIMIZERS = {
    "adam": optim.Adam,
    "adamw": optim.AdamW,
    "sgd": optim.SGD,
    "adafactor": optim.Adafactor,
    "muon": optim.Muon,
}


class TrainError(ValueError):
    """A run that cannot start (bad resume, model/config mismatch); the message says why."""


def build_optimizer(config: TrainConfig) -> optim.Optimizer:
    """The configured mlx optimizer with the learning-rate schedule built by mlx-lm."""
    schedule = config.lr_schedule
    learning_rate: Any = config.learning_rate
    if schedule is not None:
        learning_rate = build_schedule(
            {
                "name": schedule.name,
                "arguments": list(config.schedule_arguments()),
                "warmup": schedule.warmup,
                "warmup_init": schedule.warmup_init,
            }
        )
    extra = dict(config.optimizer_config.get(config.optimizer, {}))
    return _OPTIMIZERS[config.optimizer](learning_rate=learning_rate, **extra)


def apply_adapters(model: nn.Module, config: TrainConfig) -> None:
    """Freeze the model and make the configured layers trainable (LoRA/DoRA or full).

    With `numpy_exp` installed the LoRA layers get the parentless forward
    (`punie_train.parentless_lora`: the same values and gradient; one update of 8 examples
    peaked at 4.48 GB with it, 6.79 GB without).
    """
    layers = len(model.layers)
    if config.num_layers > layers:
        raise TrainError(f"num_layers={config.num_layers} but the model has {layers} layers")
    mx.random.seed(config.seed)
    model.freeze()
    if config.fine_tune_type == "full":
        for layer in model.layers[-max(config.num_layers, 0) :]:
            layer.unfreeze()
        return
    lora = {k: v for k, v in attrs.asdict(config.lora_parameters).items() if v is not None}
    linear_to_lora_layers(model, config.num_layers, lora, use_dora=config.fine_tune_type == "dora")
    if numpy_exp.installed(model):
        make_parentless(model)


def gradient_function(
    model: nn.Module, config: TrainConfig
) -> tuple[Callable[..., tuple[mx.array, Any]], str]:
    """What computes an update's loss and gradient, and a note naming it.

    `punie_train.numpy_gradient` on the CPU when the config asks for it and the model fits
    (llama, LoRA without dropout); mlx's `value_and_grad` of `batch_loss` otherwise.
    """
    mlx_gradient = nn.value_and_grad(model, batch_loss)
    if not config.numpy_gradient:
        return mlx_gradient, "gradient in mlx"
    if mx.default_device().type != mx.DeviceType.cpu:
        return mlx_gradient, "gradient in mlx (not on the CPU)"
    if config.grad_checkpoint:
        return mlx_gradient, "gradient in mlx (grad_checkpoint asks for mlx's recomputation)"
    reason = numpy_gradient.unsupported(model)
    if reason is not None:
        return mlx_gradient, f"gradient in mlx ({reason})"
    return numpy_gradient.NumpyGradient(model), "gradient in numpy"


def validation_loss(
    model: nn.Module,
    examples: Sequence[TokenizedExample],
    fast: FastPaths,
    ranks: World | None = None,
) -> float:
    """Mean over `examples` of each example's mean target-token loss (no gradient).

    With several `ranks`, each computes its share and the shares are summed.
    """
    distributed = ranks is not None and not ranks.single
    ordered = sorted(ranks.shard(examples) if distributed else examples, key=len)
    model.eval()
    total = mx.array(0.0)
    if ordered:
        for batch in split_batches(
            ordered,
            len(examples),
            token_budget=TOKENS_PER_PASS,
            share_prefix=fast.share_prefix,
        ):
            total = total + batch_loss(model, *batch_arrays(batch), split_head=fast.split_head)
            mx.eval(total)
    if distributed:
        total = ranks.all_sum(total)
    model.train()
    return cast(float, total.item())


@attrs.define
class LoopState:
    """The loop's mutable state; `committed` is the last completed update's state."""

    update: int
    iteration: int
    best: Best | None
    committed: tuple[int, int, dict[str, mx.array], Any] | None = None
    last_saved: int = -1
    window_losses: list[float] = attrs.Factory(list)
    window_grad_norms: list[float] = attrs.Factory(list)
    window_tokens: int = 0
    window_trained: int = 0
    window_time: float = 0.0
    total_tokens: int = 0
    total_trained: int = 0
    total_time: float = 0.0
    window_comm: float = 0.0
    total_comm: float = 0.0
    final_train_loss: float | None = None
    final_val_loss: float | None = None


def run_update(
    config: TrainConfig,
    model: nn.Module,
    optimizer: optim.Optimizer,
    value_and_grad: Callable[..., tuple[mx.array, Any]],
    split: TokenizedSplit,
    lengths: np.ndarray,
    per_update: int,
    order_cache: dict[int, list[np.ndarray]],
    fast: FastPaths,
    loop: LoopState,
    ranks: World | None = None,
) -> None:
    """Run the next optimizer update and account for it in `loop` (this rank's share of it)."""
    tic = time.perf_counter()
    steps = min(config.grad_accumulation_steps, config.iters - loop.iteration)
    power = config.balance_power
    keys = None if power is None else [e.key for e in split]
    group = update_group(
        lengths, per_update, config.seed, loop.update, order_cache, keys, power or 0.0
    )
    examples = [split[int(i)] for i in group[: steps * config.batch_size]]
    mx.random.seed(config.seed * 1_000_003 + loop.update + 1)  # dropout: a function of the update
    if ranks is not None and not ranks.single:
        _run_shard(
            model,
            optimizer,
            value_and_grad,
            examples,
            fast,
            loop,
            ranks,
            steps,
            tic,
            prefix_gradient=config.prefix_gradient,
            max_grad_norm=config.max_grad_norm,
        )
        return
    loss = mx.array(0.0)
    grads: Any = None
    batches = split_batches(
        examples,
        len(examples),
        token_budget=TOKENS_PER_PASS,
        share_prefix=fast.share_prefix,
    )
    for batch in batches:
        value, grad = value_and_grad(
            model,
            *batch_arrays(batch),
            split_head=fast.split_head,
            prefix_gradient=config.prefix_gradient,
        )
        loss = loss + value
        grads = grad if grads is None else tree_map(mx.add, grads, grad)
        if len(batches) > 1:
            mx.eval(loss, grads)
    _step_and_record(model, optimizer, grads, loss, loop, steps, config.max_grad_norm)
    _account(loop, sum(len(e) for e in examples), sum(b.trained_tokens for b in batches), tic)


def _step_and_record(
    model: nn.Module,
    optimizer: optim.Optimizer,
    grads: Any,
    loss: mx.array,
    loop: LoopState,
    steps: int,
    max_grad_norm: float = 0.0,
) -> None:
    """Apply the update's gradient and record the finished update as `loop.committed`.

    With `max_grad_norm` > 0 the gradient is first scaled down to that global norm; the
    norm before clipping goes to the report window either way.
    """
    grads, norm = clip_gradient(grads, max_grad_norm)
    optimizer.update(model, grads)
    mx.eval(loss, norm, model.trainable_parameters(), optimizer.state)
    loop.update += 1
    loop.iteration += steps
    # Arrays are immutable, but the optimizer mutates its state dicts: copy the containers.
    state = tree_map(lambda x: x, optimizer.state)
    loop.committed = (loop.update, loop.iteration, trainable_weights(model), state)
    loop.window_losses.append(cast(float, loss.item()))
    loop.window_grad_norms.append(cast(float, norm.item()))


def clip_gradient(grads: Any, max_norm: float) -> tuple[Any, mx.array]:
    """(The gradient scaled to at most `max_norm` in global L2 norm, its norm before).

    `max_norm` 0 leaves the gradient as it is (the same arrays).
    """
    if max_norm > 0:
        return optim.clip_grad_norm(grads, max_norm)
    squares = [mx.square(cast(mx.array, g)).sum() for _, g in tree_flatten(grads)]
    return grads, mx.sqrt(sum(squares, mx.array(0.0)))


def _account(loop: LoopState, tokens: int, trained: int, tic: float, comm: float = 0.0) -> None:
    """Add a finished update's tokens and time to the report window and the run totals."""
    elapsed = time.perf_counter() - tic
    loop.window_tokens += tokens
    loop.window_trained += trained
    loop.window_time += elapsed
    loop.window_comm += comm
    loop.total_tokens += tokens
    loop.total_trained += trained
    loop.total_time += elapsed
    loop.total_comm += comm


def _run_shard(
    model: nn.Module,
    optimizer: optim.Optimizer,
    value_and_grad: Callable[..., tuple[mx.array, Any]],
    examples: list[TokenizedExample],
    fast: FastPaths,
    loop: LoopState,
    ranks: World,
    steps: int,
    tic: float,
    *,
    prefix_gradient: bool = True,
    max_grad_norm: float = 0.0,
) -> None:
    """`run_update` on one rank of several: its share, then sums over the ranks, then the step."""
    local = ranks.shard(examples)
    loss = mx.array(0.0)
    grads: Any = None
    tokens = trained = 0
    if local:  # a short last update may leave a rank without examples
        for batch in split_batches(
            local,
            len(examples),  # weights of the GLOBAL update: the sum over ranks is its gradient
            token_budget=TOKENS_PER_PASS,
            share_prefix=fast.share_prefix,
        ):
            value, grad = value_and_grad(
                model,
                *batch_arrays(batch),
                split_head=fast.split_head,
                prefix_gradient=prefix_gradient,
            )
            loss = loss + value
            grads = grad if grads is None else tree_map(mx.add, grads, grad)
            trained += batch.trained_tokens
            mx.eval(loss, grads)
    if grads is None:
        grads = tree_map(mx.zeros_like, model.trainable_parameters())
    tokens = sum(len(e) for e in local)
    mx.eval(loss, grads)
    comm = time.perf_counter()
    counts = mx.array([tokens, trained], dtype=mx.int32)
    loss, grads, counts = ranks.all_sum((loss, grads, counts))
    comm = time.perf_counter() - comm
    _step_and_record(model, optimizer, grads, loss, loop, steps, max_grad_norm)
    tokens, trained = (int(n) for n in counts.tolist())
    _account(loop, tokens, trained, tic, comm)


def train_event(loop: LoopState, optimizer: optim.Optimizer) -> dict[str, Any]:
    """The log event for the updates since the last report (and reset their window)."""
    loss = sum(loop.window_losses) / len(loop.window_losses)
    event = {
        "event": "train",
        "iteration": loop.iteration,
        "update": loop.update,
        "train_loss": loss,
        "learning_rate": cast(float, optimizer.learning_rate.item()),
        "grad_norm": sum(loop.window_grad_norms) / max(len(loop.window_grad_norms), 1),
        "grad_norm_max": max(loop.window_grad_norms, default=0.0),
        "tokens_per_s": loop.window_tokens / max(loop.window_time, 1e-9),
        "trained_tokens_per_s": loop.window_trained / max(loop.window_time, 1e-9),
        "elapsed_s": loop.total_time,
        "peak_memory_gb": mx.get_peak_memory() / 1e9,  # mlx's buffers only
        # The process's peak resident size: counts numpy's training activations too.
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9,
    }
    if loop.total_comm:  # several ranks: the seconds spent summing over them
        event["comm_s"] = loop.window_comm
    loop.final_train_loss = loss
    loop.window_comm = 0.0
    loop.window_losses, loop.window_tokens, loop.window_trained, loop.window_time = [], 0, 0, 0.0
    loop.window_grad_norms = []
    return event
