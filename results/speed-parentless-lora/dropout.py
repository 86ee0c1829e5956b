# ruff: noqa: E402 - paths and the BLAS are set up before the imports that need them
"""One update's gradient with LoRA dropout 0.1: parentless LoRA layers against mlx-lm's.

PYTHONPATH=.:plugins:bench .venv/bin/python results/speed-parentless-lora/dropout.py

The default model with the default adapters and dropout 0.1 (LoRA B set to small random
values so every gradient is non-zero), 8 examples of the default mix of `data/phase33`; the
update's loss and gradient computed with the parentless layers, with mlx-lm's `LoRALinear`,
and parentless again, each after `mx.random.seed(7)` (the same dropout masks). Prints each
one's loss, seconds and peak memory, and the gradients' cosine and largest relative
difference. Asserts nothing. 2026-11-27, a training run beside it for the seconds:
parentless 1.916735 / 28.8 s (first) / 6.74 GB, mlx-lm 1.916735 / 22.4 s / 9.02 GB,
parentless 1.916735 / 18.8 s / 6.75 GB; cosine 1.0000002, max relative 7.1e-7.
"""

import sys
import time

sys.path[:0] = [".", "plugins", "bench"]
from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)
import mlx.core as mx
import mlx.nn as nn
import numpy as np
from mlx.utils import tree_flatten
from mlx_lm.tuner.lora import LoRALinear
from train_step import mix_batch  # type: ignore  # bench/ is not a package

from punie_runtime.base_model import load_model
from punie_train import forward
from punie_train.config import LoraParameters, TrainConfig
from punie_train.parentless_lora import ParentlessLoRALinear
from punie_train.step import apply_adapters

model, tok = load_model("default")
apply_adapters(model, TrainConfig(lora_parameters=LoraParameters(dropout=0.1)))
layers = [m for _, m in model.named_modules() if isinstance(m, LoRALinear)]
print(len(layers), {type(layer).__name__ for layer in layers})
for layer in layers:
    layer.lora_b = mx.random.normal(layer.lora_b.shape) * 0.01
batch = mix_batch(tok, 8)
vg = nn.value_and_grad(model, forward.batch_loss)
res = {}
for name in ("parentless", "plain", "parentless"):
    for layer in layers:
        layer.__class__ = ParentlessLoRALinear if name == "parentless" else LoRALinear
    mx.clear_cache()
    mx.reset_peak_memory()
    mx.random.seed(7)
    t = time.perf_counter()
    loss, g = vg(model, *batch)
    mx.eval(loss, g)
    dt = time.perf_counter() - t
    flat = np.concatenate([np.array(v).ravel() for _, v in tree_flatten(g)])
    print(
        name,
        f"loss {loss.item():.6f} {dt:.1f} s peak {mx.get_peak_memory() / 1e9:.2f} GB",
        flush=True,
    )
    res[name] = flat
a, b = res["parentless"], res["plain"]
print(
    "cosine",
    float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)),
    "max rel",
    float(np.abs(a - b).max() / np.abs(b).max()),
)
