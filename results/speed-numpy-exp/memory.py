# ruff: noqa: E402 - paths and the BLAS are set up before the imports that need them
"""Peak mlx memory of one training gradient with each part of `numpy_exp` alone.

PYTHONPATH=.:plugins:bench .venv/bin/python results/speed-numpy-exp/memory.py

One update's gradient (8 examples of the default mix of `data/phase33`, seeded) with mlx's
kernels, then with only the numpy attention, only the numpy SwiGLU, only the RoPE table, and
everything `numpy_exp.install` sets. Prints the peak memory and seconds; asserts nothing.
"""

import sys

sys.path[:0] = [".", "plugins", "bench"]
from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)
import time
from pathlib import Path

import mlx.core as mx
import mlx.nn as nn
import mlx_lm.models.llama as llama
import numpy as np
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
split = training_split(
    read_chat_jsonl(Path("data/phase33/train.jsonl")), tokenizer, TrainConfig(), names
)
chosen = np.random.default_rng(1).choice(len(split), 16, replace=False)
batch = forward.batch_arrays(make_batch([split[int(i)] for i in chosen[8:16]], 8))
value_and_grad = nn.value_and_grad(model, forward.batch_loss)
numpy_exp.uninstall(model)
mlx_attention, mlx_swiglu = llama.scaled_dot_product_attention, llama.swiglu


def measure(label: str) -> None:
    """Peak memory and seconds of one gradient as the model is set up now."""
    mx.clear_cache()
    mx.reset_peak_memory()
    start = time.perf_counter()
    loss, grads = value_and_grad(model, *batch)
    mx.eval(loss, grads)
    peak = mx.get_peak_memory() / 1e9
    print(f"{label:28s} peak {peak:5.2f} GB  {time.perf_counter() - start:5.1f} s", flush=True)


measure("mlx kernels")
llama.scaled_dot_product_attention = numpy_exp.attention  # type: ignore  # one part at a time
measure("numpy attention only")
llama.scaled_dot_product_attention, llama.swiglu = mlx_attention, numpy_exp.swiglu
measure("numpy swiglu only")
llama.swiglu = mlx_swiglu
for layer in model.layers:
    layer.self_attn.rope = numpy_exp.TableRoPE(64, False, 100000.0, 1.0)
measure("rope table only")
numpy_exp.install(model)
measure("all of numpy_exp")
