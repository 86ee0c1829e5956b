# ruff: noqa: E402 - paths and the BLAS are set up before the imports that need them
"""A real update's LoRA gradient with mlx's kernels and with `numpy_exp`, compared.

PYTHONPATH=.:plugins:bench .venv/bin/python results/speed-numpy-exp/gradient.py

The embedded model with adapters on every layer (their weights drawn at random, seed 5, so
every path carries gradient as mid-training), 8 examples of the default mix of
`data/phase33` (seeded), the trainer's loss. Prints both losses, the median and worst
per-tensor max relative difference and the cosine of the two whole gradients; asserts nothing.
"""

import sys

sys.path[:0] = [".", "plugins", "bench"]
from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)
from pathlib import Path

import mlx.core as mx
import mlx.nn as nn
import numpy as np
from mlx.utils import tree_flatten, tree_map
from train_step import prepare  # type: ignore  # bench/ is not a package

from punie_datagen.jsonl import read_chat_jsonl
from punie_runtime import numpy_exp
from punie_tools import Registry
from punie_train import forward
from punie_train.config import TrainConfig
from punie_train.dataset import make_batch
from punie_train.mix import training_split

names = [s.name for s in Registry.load().tools()]
model, tokenizer, _ = prepare("default", -1)
mx.random.seed(5)
model.update(tree_map(lambda p: mx.random.normal(p.shape) * 0.02, model.trainable_parameters()))
split = training_split(
    read_chat_jsonl(Path("data/phase33/train.jsonl")), tokenizer, TrainConfig(), names
)
chosen = np.random.default_rng(1).choice(len(split), 8, replace=False)
batch = forward.batch_arrays(make_batch([split[int(i)] for i in chosen], 8))
value_and_grad = nn.value_and_grad(model, forward.batch_loss)

numpy_exp.uninstall(model)
mlx_loss, mlx_grads = value_and_grad(model, *batch)
mx.eval(mlx_loss, mlx_grads)
numpy_exp.install(model)
numpy_loss, numpy_grads = value_and_grad(model, *batch)
mx.eval(numpy_loss, numpy_grads)

theirs = {k: np.asarray(v) for k, v in tree_flatten(mlx_grads)}
ours = {k: np.asarray(v) for k, v in tree_flatten(numpy_grads)}
relative = sorted(
    (float(np.abs(ours[k] - theirs[k]).max() / (np.abs(theirs[k]).max() or 1.0)), k) for k in theirs
)
dot = sum(float((theirs[k] * ours[k]).sum()) for k in theirs)
norms = [sum(float((g[k] * g[k]).sum()) for k in theirs) ** 0.5 for g in (theirs, ours)]
print(f"loss: mlx {mlx_loss.item():.6f}, numpy_exp {numpy_loss.item():.6f}")
print(f"per-tensor max relative difference: median {relative[len(relative) // 2][0]:.2e}")
print(f"worst: {relative[-1][0]:.2e} ({relative[-1][1]})")
print(f"cosine of the whole gradients: {dot / (norms[0] * norms[1]):.7f}")
