# ruff: noqa: E402 - the BLAS is set up before mlx is imported
"""mlx's own exp-based ops against `punie_runtime.numpy_exp`'s, one op at a time.

PYTHONPATH=. .venv/bin/python results/speed-numpy-exp/elementwise.py

Attention-shaped float32 scores (8 x 9 x 300 x 700, 15.1 M elements) and RoPE on queries of
12 heads x 600 positions at offset 390; best of 5. Prints seconds and ratios, asserts nothing.
"""

import sys

sys.path[:0] = ["."]
from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas()
import time
from collections.abc import Callable

import mlx.core as mx
import mlx.nn as nn
import numpy as np

from punie_runtime import numpy_exp


def best(work: Callable[[], object], repeats: int = 5) -> float:
    """Best wall time of `work` (its mlx result evaluated)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = work()
        if isinstance(result, mx.array):
            mx.eval(result)
        times.append(time.perf_counter() - start)
    return min(times)


scores = mx.random.normal((8, 9, 300, 700))
mx.eval(scores)
as_numpy = np.asarray(scores)
rows = [
    ("exp: mx.exp | np.exp", lambda: mx.exp(scores), lambda: np.exp(as_numpy)),
    (
        "softmax: mx.softmax | numpy_exp.softmax",
        lambda: mx.softmax(scores, axis=-1),
        lambda: numpy_exp.softmax(scores),
    ),
    (
        "silu: x*mx.sigmoid(x) | x*numpy_exp.sigmoid(x)",
        lambda: scores * mx.sigmoid(scores),
        lambda: scores * numpy_exp.sigmoid(scores),
    ),
]
queries = mx.random.normal((1, 12, 600, 64))
mx.eval(queries)
plain, table = nn.RoPE(64, base=100000.0), numpy_exp.TableRoPE(64, False, 100000.0, 1.0)
rows.append(
    ("rope: mx.fast.rope | TableRoPE", lambda: plain(queries, 390), lambda: table(queries, 390))
)
print(f"{scores.size:,} scores; seconds, best of 5")
for label, theirs, ours in rows:
    mlx_s, numpy_s = best(theirs), best(ours)
    print(f"{label:50s} {mlx_s:.4f} | {numpy_s:.4f}  ({mlx_s / numpy_s:.1f}x faster)")
