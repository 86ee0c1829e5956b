# ruff: noqa: E402 - a throwaway measurement script: paths and BLAS set before the imports
import sys

sys.path.insert(0, ".")
sys.path.insert(0, "plugins")
sys.path.insert(0, "bench")
from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)
from pathlib import Path

import mlx.core as mx
import mlx_lm.models.llama as L
import numpy as np
from train_step import prepare, timed_update  # type: ignore  (a throwaway script patching mlx-lm)

from punie_datagen.jsonl import read_chat_jsonl
from punie_tools import Registry
from punie_train.config import TrainConfig
from punie_train.dataset import make_batch
from punie_train.forward import batch_arrays, batch_loss
from punie_train.mix import training_split

names = [s.name for s in Registry.load().tools()]
model, tok, opt = prepare("default", -1)
sp = training_split(
    read_chat_jsonl(Path("data/phase33/train.jsonl"))[:600], tok, TrainConfig(), names
)
rng = np.random.default_rng(1)
idx = rng.choice(len(sp), 32, replace=False)
groups = [[sp[int(i)] for i in idx[k * 8 : (k + 1) * 8]] for k in range(4)]
batches = [batch_arrays(make_batch(g, 8)) for g in groups]
print("tokens per update", [sum(len(e) for e in g) for g in groups])


def run(label):
    timed_update(model, opt, batch_loss, [batches[0]])
    ts = [timed_update(model, opt, batch_loss, [b]) for b in batches[1:]]
    print(f"{label:30s} {sum(ts):6.2f} s")


orig_sdpa = L.scaled_dot_product_attention
orig_sw = L.swiglu
run("baseline")


def no_softmax(q, k, v, cache, scale, mask, sinks=None):
    s = (q * scale) @ mx.swapaxes(mx.repeat(k, 3, axis=1), -1, -2)
    return s @ mx.repeat(v, 3, axis=1)


def plain_softmax(q, k, v, cache, scale, mask, sinks=None):
    K = mx.repeat(k, 3, axis=1)
    V = mx.repeat(v, 3, axis=1)
    s = (q * scale) @ mx.swapaxes(K, -1, -2)
    if isinstance(mask, str):
        n, m = s.shape[-2], s.shape[-1]
        mask = mx.arange(m)[None, :] <= mx.arange(n)[:, None] + (m - n)
    if mask is not None:
        s = mx.where(mask, s, -1e9)
    return mx.softmax(s, axis=-1) @ V


L.scaled_dot_product_attention = plain_softmax  # type: ignore  (a throwaway script patching mlx-lm)
run("composed softmax attention")
L.scaled_dot_product_attention = no_softmax  # type: ignore  (a throwaway script patching mlx-lm)
run("attention without softmax")
L.scaled_dot_product_attention = orig_sdpa
L.swiglu = lambda g, x: mx.maximum(g, 0) * x  # type: ignore  (a throwaway script patching mlx-lm)
run("relu instead of silu")
L.scaled_dot_product_attention = no_softmax  # type: ignore  (a throwaway script patching mlx-lm)
run("both")
