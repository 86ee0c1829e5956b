# ruff: noqa: E402 - paths and the BLAS are set up before the imports that need them
"""Peak memory, seconds and gradient of one training update: mlx, numpy_exp, + parentless LoRA.

PYTHONPATH=.:plugins:bench .venv/bin/python results/speed-parentless-lora/memory.py \
    [--examples 8] [--rounds 2]

One update's gradient (`--examples` examples of the default mix of `data/phase33`, seeded),
computed with mlx's kernels, with `numpy_exp`, and with `numpy_exp` plus
`punie_train.parentless_lora` (the LoRA layers' outputs copied into buffers with no graph),
in turn for `--rounds` rounds. Prints each one's peak memory and seconds, and the cosine and
largest relative difference of the parentless gradient against the numpy_exp one. Asserts
nothing.
"""

import sys

sys.path[:0] = [".", "plugins", "bench"]
from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)
import argparse
import time

import mlx.core as mx
import mlx.nn as nn
import numpy as np
from mlx.utils import tree_flatten
from mlx_lm.tuner.lora import LoRALinear
from train_step import mix_batch, prepare  # type: ignore  # bench/ is not a package

from punie_runtime import numpy_exp
from punie_train import forward
from punie_train.parentless_lora import ParentlessLoRALinear, make_parentless

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--examples", type=int, default=8)
parser.add_argument("--rounds", type=int, default=2)
args = parser.parse_args()

model, tokenizer, _ = prepare("default", -1)
batch = mix_batch(tokenizer, args.examples)
own = sum(int(s.size) for s in batch[1])
print(f"{args.examples} examples: prefix {int(batch[0].size)} tokens, {own} own", flush=True)
value_and_grad = nn.value_and_grad(model, forward.batch_loss)
layers = [m for _, m in model.named_modules() if isinstance(m, LoRALinear)]


def setting(name: str) -> None:
    """Put the model in one of the three settings."""
    for layer in layers:
        layer.__class__ = LoRALinear
    if name == "mlx kernels":
        numpy_exp.uninstall(model)
        return
    numpy_exp.install(model)
    if name == "numpy_exp + parentless LoRA":
        make_parentless(model)
        assert all(type(layer) is ParentlessLoRALinear for layer in layers)


def measure(label: str) -> dict[str, np.ndarray]:
    """Peak memory and seconds of one gradient in setting `label`; the gradient."""
    setting(label)
    mx.clear_cache()
    mx.reset_peak_memory()
    start = time.perf_counter()
    loss, grads = value_and_grad(model, *batch)
    mx.eval(loss, grads)
    seconds = time.perf_counter() - start
    peak = mx.get_peak_memory() / 1e9
    print(f"{label:30s} peak {peak:5.2f} GB  {seconds:5.1f} s  loss {loss.item():.6f}", flush=True)
    return {k: np.array(v) for k, v in tree_flatten(grads)}


for _ in range(args.rounds):
    measure("mlx kernels")
    reference = measure("numpy_exp")
    parentless = measure("numpy_exp + parentless LoRA")
a = np.concatenate([g.ravel() for g in reference.values()])
b = np.concatenate([parentless[k].ravel() for k in reference])
worst = max(
    float(np.abs(parentless[k] - g).max() / (np.abs(g).max() + 1e-30)) for k, g in reference.items()
)
cosine = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
print(f"gradient, parentless vs numpy_exp: cosine {cosine:.7f}, worst relative {worst:.2e}")
