# ruff: noqa: E402 - paths and the BLAS are set up before the imports that need them
"""Seconds per real training update: `NumpyGradient` now against its version at a commit.

PYTHONPATH=.:plugins:bench .venv/bin/python results/speed-numpy-gradient/against_commit.py \
    [--base COMMIT] [--updates N]

The default mix of `data/phase33` (seeded), updates of 8 examples laid out as the trainer lays
them, adapters drawn at random so the gradient is not trivial. `punie_train/numpy_gradient.py`
as it was at `--base` is loaded from git beside today's; one warm-up call each, then the same
N updates alternately with each (ABAB...). Prints each update's losses, the cosine of the two
gradients and their largest relative difference, then the total time of each and the ratio.
Asserts nothing.
"""

import sys

sys.path[:0] = [".", "plugins", "bench"]
from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)
import argparse
import importlib.util
import subprocess
import tempfile
import time
from pathlib import Path

import mlx.core as mx
import numpy as np
from mlx.utils import tree_flatten
from train_step import mix_updates, prepare, random_adapters  # type: ignore  # bench/ is not a package

from punie_train import forward
from punie_train.dataset import split_batches
from punie_train.numpy_gradient import NumpyGradient

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--base", default="58fe459", help="the commit to compare against")
parser.add_argument("--updates", type=int, default=8)
args = parser.parse_args()

source = subprocess.run(
    ["git", "show", f"{args.base}:punie_train/numpy_gradient.py"],
    capture_output=True,
    text=True,
    check=True,
).stdout
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "numpy_gradient_base.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("numpy_gradient_base", path)
    assert spec is not None and spec.loader is not None
    base_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(base_module)

model, tokenizer, _ = prepare("default", -1)
random_adapters(model)
groups = mix_updates(tokenizer, Path("data/phase33"), args.updates + 1)
updates = [
    [forward.batch_arrays(b) for b in split_batches(g, 8, token_budget=3072)] for g in groups
]
paths = {"base": base_module.NumpyGradient(model), "now": NumpyGradient(model)}


def run(path, batches):
    tic = time.perf_counter()
    out = [path(model, *batch) for batch in batches]
    mx.eval([loss for loss, _ in out], [grad for _, grad in out])
    flat = np.concatenate([np.array(v).ravel() for _, grad in out for _, v in tree_flatten(grad)])
    return time.perf_counter() - tic, [round(loss.item(), 6) for loss, _ in out], flat


for path in paths.values():
    run(path, updates[0])
seconds = {name: 0.0 for name in paths}
for index, batches in enumerate(updates[1:]):
    results = {}
    for name, path in paths.items():
        elapsed, losses, flat = run(path, batches)
        seconds[name] += elapsed
        results[name] = (elapsed, losses, flat)
    (t_base, l_base, g_base), (t_now, l_now, g_now) = results["base"], results["now"]
    cosine = float(g_base @ g_now / np.linalg.norm(g_base) / np.linalg.norm(g_now))
    worst = float(np.abs(g_base - g_now).max() / np.abs(g_base).max())
    print(
        f"update {index}: base {t_base:.2f} s, now {t_now:.2f} s ({t_now / t_base:.2f}x); "
        f"loss {l_base} / {l_now}; gradient cosine {cosine:.7f}, max rel diff {worst:.1e}",
        flush=True,
    )
total_base, total_now = seconds["base"], seconds["now"]
print(
    f"total base ({args.base}) {total_base:.1f} s, now {total_now:.1f} s: "
    f"{total_now / total_base:.3f}x the time over {args.updates} updates"
)
