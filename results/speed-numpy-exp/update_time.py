# ruff: noqa: E402 - paths and the BLAS are set up before the imports that need them
"""Seconds per real training update with mlx's own exp/RoPE and with `punie_runtime.numpy_exp`.

PYTHONPATH=.:plugins:bench .venv/bin/python results/speed-numpy-exp/update_time.py [--updates N]

The default mix of `data/phase33` (seeded), updates of 8 examples as the trainer makes them,
the trainer's loss (`forward.batch_loss`, shared prefix, logits only on trained tokens). One
warm-up update, then the same N updates alternately with each path (ABAB...), so drift of the
machine falls on both. Also prints the first update's loss under both paths and the peak mlx
memory of an update under each. Asserts nothing.
"""

import sys

sys.path[:0] = [".", "plugins", "bench"]
from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)
import argparse
import statistics
from pathlib import Path

import mlx.core as mx
import mlx.nn as nn
import numpy as np
from train_step import prepare, timed_update  # type: ignore  # bench/ is not a package

from punie_datagen.jsonl import read_chat_jsonl
from punie_runtime import numpy_exp
from punie_tools import Registry
from punie_train import forward
from punie_train.config import TrainConfig
from punie_train.dataset import make_batch
from punie_train.mix import training_split

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--updates", type=int, default=4)
args = parser.parse_args()

names = [s.name for s in Registry.load().tools()]
model, tokenizer, optimizer = prepare("default", -1)
split = training_split(
    read_chat_jsonl(Path("data/phase33/train.jsonl")), tokenizer, TrainConfig(), names
)
chosen = np.random.default_rng(1).choice(len(split), 8 * (args.updates + 1), replace=False)
groups = [[split[int(i)] for i in chosen[k * 8 : (k + 1) * 8]] for k in range(args.updates + 1)]
batches = [forward.batch_arrays(make_batch(group, 8)) for group in groups]
print("tokens per update", [sum(len(e) for e in group) for group in groups[1:]], flush=True)


def use(enabled: bool) -> None:
    """Switch the model's module to numpy's exp or back to mlx's."""
    if enabled:
        numpy_exp.install(model)
    else:
        numpy_exp.uninstall(model)


for enabled in (False, True):
    use(enabled)
    loss = nn.value_and_grad(model, forward.batch_loss)(model, *batches[1])[0]
    print(f"numpy exp {enabled!s:5}: loss of update 1 {loss.item():.6f}", flush=True)

use(False)
timed_update(model, optimizer, forward.batch_loss, [batches[0]])
seconds: dict[bool, list[float]] = {False: [], True: []}
peak_gb: dict[bool, float] = {False: 0.0, True: 0.0}
for batch in batches[1:]:
    for enabled in (False, True):
        use(enabled)
        mx.clear_cache()
        mx.reset_peak_memory()
        seconds[enabled].append(timed_update(model, optimizer, forward.batch_loss, [batch]))
        peak_gb[enabled] = max(peak_gb[enabled], mx.get_peak_memory() / 1e9)
    print(
        f"update: mlx exp {seconds[False][-1]:.2f} s, numpy exp {seconds[True][-1]:.2f} s",
        flush=True,
    )
mlx_s, numpy_s = sum(seconds[False]), sum(seconds[True])
ratios = [n / m for n, m in zip(seconds[True], seconds[False], strict=True)]
print(f"total mlx exp {mlx_s:.1f} s, numpy exp {numpy_s:.1f} s: ratio {numpy_s / mlx_s:.2f}x")
print(f"median ratio per update {statistics.median(ratios):.2f}x")
print(
    f"peak mlx memory of an update: mlx exp {peak_gb[False]:.2f} GB, "
    f"numpy exp {peak_gb[True]:.2f} GB"
)
