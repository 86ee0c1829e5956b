# ruff: noqa: E402 - paths and the BLAS are set up before the imports that need them
"""Seconds for three real training updates, with model parts swapped out or split in two.

PYTHONPATH=.:plugins:bench .venv/bin/python results/speed-profile/update_time.py
(and again with OPENBLAS_NUM_THREADS=1 for the streams with one BLAS thread)

Three updates of 8 examples of the default mix (`data/phase33`, seeded), after one warm-up
update: the trainer's loss; attention composed of plain ops; attention without its softmax;
ReLU instead of SiLU; both (the stand-ins only time a part, they change the model); and the
examples of each update alternating between two mlx CPU streams (the loss checked equal to
the trainer's first). Prints, asserts nothing.
"""

import sys

sys.path[:0] = [".", "plugins", "bench"]
from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mlx.core as mx
import mlx.nn as nn
import mlx_lm.models.llama as llama
import numpy as np
from train_step import prepare, timed_update  # type: ignore  # bench/ is not a package

from punie_datagen.jsonl import read_chat_jsonl
from punie_tools import Registry
from punie_train import forward
from punie_train.config import TrainConfig
from punie_train.dataset import make_batch
from punie_train.mix import training_split

names = [s.name for s in Registry.load().tools()]
model, tokenizer, optimizer = prepare("default", -1)
split = training_split(
    read_chat_jsonl(Path("data/phase33/train.jsonl"))[:600], tokenizer, TrainConfig(), names
)
chosen = np.random.default_rng(1).choice(len(split), 32, replace=False)
groups = [[split[int(i)] for i in chosen[k * 8 : (k + 1) * 8]] for k in range(4)]
batches = [forward.batch_arrays(make_batch(group, 8)) for group in groups]
streams = [mx.new_stream(mx.cpu) for _ in range(2)]
print("tokens per update", [sum(len(e) for e in group) for group in groups])


def run(label: str, loss: Callable[..., mx.array] = forward.batch_loss) -> None:
    """Time three updates after a warm-up one."""
    timed_update(model, optimizer, loss, [batches[0]])
    seconds = [timed_update(model, optimizer, loss, [batch]) for batch in batches[1:]]
    print(f"{label:30s} {sum(seconds):6.2f} s", flush=True)


def no_softmax(
    q: mx.array, k: mx.array, v: mx.array, cache: Any, scale: float, mask: Any, sinks: Any = None
) -> mx.array:
    """Attention's matmuls without the softmax between them (timing only)."""
    scores = (q * scale) @ mx.swapaxes(mx.repeat(k, 3, axis=1), -1, -2)
    return scores @ mx.repeat(v, 3, axis=1)


def plain_softmax(
    q: mx.array, k: mx.array, v: mx.array, cache: Any, scale: float, mask: Any, sinks: Any = None
) -> mx.array:
    """Attention composed of plain mlx ops (the same values as the fast kernel)."""
    scores = (q * scale) @ mx.swapaxes(mx.repeat(k, 3, axis=1), -1, -2)
    if isinstance(mask, str):
        n, m = scores.shape[-2], scores.shape[-1]
        mask = mx.arange(m)[None, :] <= mx.arange(n)[:, None] + (m - n)
    if mask is not None:
        scores = mx.where(mask, scores, -1e9)
    return mx.softmax(scores, axis=-1) @ mx.repeat(v, 3, axis=1)


def streamed_loss(
    model: Any, prefix: mx.array, suffixes: list[mx.array], positions: mx.array, *rest: mx.array
) -> mx.array:
    """The trainer's loss with the examples alternating between two CPU streams."""
    targets, weights = rest
    cache = [forward.PrefixCache() for _ in model.layers]
    model(prefix[None], cache=cache)
    hidden = []
    for index, suffix in enumerate(suffixes):
        with mx.stream(streams[index % 2]):
            hidden.append(model.model(suffix[None], cache=cache)[0])
    head = forward._head(model)  # the trainer's own choice of output projection
    assert head is not None
    logits = head(mx.concatenate(hidden)[positions])
    losses = nn.losses.cross_entropy(logits.astype(mx.float32), targets)
    return (losses * weights).sum()


exact = nn.value_and_grad(model, forward.batch_loss)(model, *batches[1])[0]
split_in_two = nn.value_and_grad(model, streamed_loss)(model, *batches[1])[0]
print("two-stream loss - trainer's loss:", (split_in_two - exact).item())

fast_attention, swiglu = llama.scaled_dot_product_attention, llama.swiglu
run("the trainer's update")
llama.scaled_dot_product_attention = plain_softmax  # type: ignore  # patched for timing
run("composed softmax attention")
llama.scaled_dot_product_attention = no_softmax  # type: ignore  # patched for timing
run("attention without softmax")
llama.scaled_dot_product_attention = fast_attention
llama.swiglu = lambda gate, x: mx.maximum(gate, 0) * x
run("relu instead of silu")
llama.scaled_dot_product_attention = no_softmax  # type: ignore  # patched for timing
run("both")
llama.scaled_dot_product_attention, llama.swiglu = fast_attention, swiglu
run("two streams", streamed_loss)
