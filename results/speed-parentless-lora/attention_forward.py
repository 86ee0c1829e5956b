# ruff: noqa: E402 - paths and the BLAS are set up before the imports that need them
"""Seconds and peak memory of one training gradient: the attention softmax in place or copied.

PYTHONPATH=.:plugins:bench .venv/bin/python results/speed-parentless-lora/attention_forward.py \
    [--examples 8] [--rounds 3]

The default training setup (numpy_exp + parentless LoRA). `in place` is today's
`numpy_exp._weights` (the softmax runs in the score matmul's own float32 buffer); `copied` is
the version before it, kept here as the reference: a buffer filled with the mask value, the
scores copied in where allowed, then the softmax. Alternated for `--rounds` rounds; prints
each gradient's seconds and peak memory and whether the losses agree. Asserts nothing.
"""

import sys

sys.path[:0] = [".", "plugins", "bench"]
from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)
import argparse
import time

import mlx.core as mx
import mlx.nn as nn
from train_step import mix_batch, prepare  # type: ignore  # bench/ is not a package

from punie_runtime import numpy_exp
from punie_train import forward

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--examples", type=int, default=8)
parser.add_argument("--rounds", type=int, default=3)
args = parser.parse_args()

model, tokenizer, _ = prepare("default", -1)
batch = mix_batch(tokenizer, args.examples)
value_and_grad = nn.value_and_grad(model, forward.batch_loss)
in_place = numpy_exp._weights


def copied(grouped: mx.array, keys: mx.array, allowed: mx.array) -> mx.array:
    """The previous `_weights`: fill, copy where allowed, softmax."""
    scores = grouped @ mx.swapaxes(keys, -1, -2)[:, :, None]
    return numpy_exp._masked_softmax_numpy(scores, allowed)


def measure(label: str) -> float:
    """One gradient with the given softmax; its loss."""
    setattr(numpy_exp, "_weights", in_place if label == "in place" else copied)  # noqa: B010
    mx.clear_cache()
    mx.reset_peak_memory()
    start = time.perf_counter()
    loss, grads = value_and_grad(model, *batch)
    mx.eval(loss, grads)
    seconds = time.perf_counter() - start
    peak = mx.get_peak_memory() / 1e9
    print(f"{label:10s} peak {peak:5.2f} GB  {seconds:5.1f} s  loss {loss.item():.6f}", flush=True)
    return loss.item()


measure("in place")  # warm-up
for _ in range(args.rounds):
    a, b = measure("copied"), measure("in place")
print(f"losses equal: {a == b}")
