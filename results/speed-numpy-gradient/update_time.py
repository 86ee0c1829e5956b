# ruff: noqa: E402 - paths and the BLAS are set up before the imports that need them
"""Seconds per real training update: mlx's `value_and_grad` against `NumpyGradient`.

PYTHONPATH=.:plugins:bench .venv/bin/python results/speed-numpy-gradient/update_time.py \
    [--updates N] [--no-prefix-gradient]

The default mix of `data/phase33` (seeded), updates of 8 examples laid out as the trainer lays
them (`split_batches`: shared prefix, logits only on trained tokens), adapters drawn at random
so the gradient is not trivial. One warm-up update per path, then the same N updates
alternately with each path (ABAB...). Prints each update's loss under both and how far the
numpy gradient is from mlx's (per-tensor max relative difference, cosine of the whole
gradient). Asserts nothing.
"""

import sys

sys.path[:0] = [".", "plugins", "bench"]
from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)
import argparse
import statistics
import time
from pathlib import Path

import mlx.core as mx
import mlx.nn as nn
import numpy as np
from mlx.utils import tree_flatten, tree_map
from train_step import prepare, random_adapters  # type: ignore  # bench/ is not a package

from punie_datagen.jsonl import read_chat_jsonl
from punie_tools import Registry
from punie_train import forward
from punie_train.config import TrainConfig
from punie_train.dataset import split_batches
from punie_train.mix import training_split
from punie_train.numpy_gradient import NumpyGradient

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--updates", type=int, default=4)
parser.add_argument("--no-prefix-gradient", action="store_true")
args = parser.parse_args()
prefix_gradient = not args.no_prefix_gradient

names = [s.name for s in Registry.load().tools()]
model, tokenizer, _ = prepare("default", -1)
random_adapters(model)
split = training_split(
    read_chat_jsonl(Path("data/phase33/train.jsonl")), tokenizer, TrainConfig(), names
)
chosen = np.random.default_rng(1).choice(len(split), 8 * (args.updates + 1), replace=False)
groups = [[split[int(i)] for i in chosen[k * 8 : (k + 1) * 8]] for k in range(args.updates + 1)]
updates = [
    [forward.batch_arrays(b) for b in split_batches(g, 8, token_budget=3072)] for g in groups
]
print("tokens per update", [sum(len(e) for e in group) for group in groups[1:]], flush=True)
mlx_path = nn.value_and_grad(model, forward.batch_loss)
numpy_path = NumpyGradient(model)


def run(path, batches):
    tic = time.perf_counter()
    loss, grads = mx.array(0.0), None
    for batch in batches:
        value, grad = path(model, *batch, prefix_gradient=prefix_gradient)
        loss = loss + value
        grads = grad if grads is None else tree_map(mx.add, grads, grad)
    mx.eval(loss, grads)
    return time.perf_counter() - tic, loss.item(), dict(tree_flatten(grads))


run(mlx_path, updates[0])
run(numpy_path, updates[0])
seconds = {"mlx": [], "numpy": []}
for batches in updates[1:]:
    t_mlx, l_mlx, g_mlx = run(mlx_path, batches)
    t_np, l_np, g_np = run(numpy_path, batches)
    seconds["mlx"].append(t_mlx)
    seconds["numpy"].append(t_np)
    a = np.concatenate([np.array(g_mlx[k]).ravel() for k in g_mlx])
    b = np.concatenate([np.array(g_np[k]).ravel() for k in g_mlx])
    rel = []
    for k in g_mlx:
        ours, theirs = np.array(g_np[k]), np.array(g_mlx[k])
        rel.append(float(np.abs(ours - theirs).max() / np.abs(theirs).max()))
    cosine = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    print(
        f"update: mlx {t_mlx:.2f} s, numpy {t_np:.2f} s ({t_np / t_mlx:.2f}x); "
        f"loss {l_mlx:.6f} / {l_np:.6f}; gradient cosine {cosine:.7f}, "
        f"max rel diff median {statistics.median(rel):.1e} worst {max(rel):.1e}",
        flush=True,
    )
m, n = sum(seconds["mlx"]), sum(seconds["numpy"])
print(f"total mlx {m:.1f} s, numpy {n:.1f} s: {n / m:.2f}x (prefix_gradient={prefix_gradient})")
