# ruff: noqa: E402 - a throwaway measurement script: paths and BLAS set before the imports
import sys

sys.path.insert(0, ".")
sys.path.insert(0, "plugins")
sys.path.insert(0, "bench")
from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)
from pathlib import Path

import mlx.core as mx
import mlx.nn as nn
import numpy as np
from train_step import prepare, timed_update  # type: ignore  (a throwaway script patching mlx-lm)

from punie_datagen.jsonl import read_chat_jsonl
from punie_tools import Registry
from punie_train import forward as F
from punie_train.config import TrainConfig
from punie_train.dataset import make_batch
from punie_train.mix import training_split

names = [s.name for s in Registry.load().tools()]
model, tok, opt = prepare("default", -1)
sp = training_split(
    read_chat_jsonl(Path("data/phase33/train.jsonl"))[:600], tok, TrainConfig(), names
)
rng = np.random.default_rng(1)
idx = rng.choice(len(sp), 32, replace=False)
groups = [[sp[int(i)] for i in idx[k * 8 : (k + 1) * 8]] for k in range(4)]
batches = [F.batch_arrays(make_batch(g, 8)) for g in groups]
streams = [mx.new_stream(mx.cpu) for _ in range(2)]


def streamed_loss(model, prefix, suffixes, positions, targets, weights):
    cache = [F.PrefixCache() for _ in model.layers]
    model(prefix[None], cache=cache)
    head = F._head(model)
    hs = []
    for i, s in enumerate(suffixes):
        with mx.stream(streams[i % 2]):
            hs.append(model.model(s[None], cache=cache)[0])
    hidden = mx.concatenate(hs)
    logits = head(hidden[positions])  # type: ignore  (a throwaway script patching mlx-lm)
    losses = nn.losses.cross_entropy(logits.astype(mx.float32), targets)
    return (losses * weights).sum()


def run(label, loss):
    timed_update(model, opt, loss, [batches[0]])
    ts = [timed_update(model, opt, loss, [b]) for b in batches[1:]]
    print(f"{label:30s} {sum(ts):6.2f} s", flush=True)


vg = nn.value_and_grad(model, F.batch_loss)
a = vg(model, *batches[1])
vg2 = nn.value_and_grad(model, streamed_loss)
b = vg2(model, *batches[1])
print("loss diff", (a[0] - b[0]).item())
run("baseline", F.batch_loss)
run("two streams", streamed_loss)
