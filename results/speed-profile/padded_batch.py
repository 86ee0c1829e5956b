# ruff: noqa: E402 - paths and the BLAS are set up before the imports that need them
"""One update's suffixes padded into one [8, L] call against the trainer's one call per suffix.

PYTHONPATH=.:plugins:bench .venv/bin/python results/speed-profile/padded_batch.py [UPDATES]

Eight examples of the default mix of `data/contrast33` per update (seeded), the shared prefix
computed once in both: the trainer's `forward.batch_loss` (each suffix its own pass, no
padding) and the same suffixes right-padded to the longest into one batched pass (the loss
equal: padding after a row's tokens cannot reach them under the causal mask). Prints the
loss of both and the seconds of each update. Asserts nothing.
"""

import sys

sys.path[:0] = [".", "plugins", "bench"]
from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)
from pathlib import Path

import mlx.core as mx
import mlx.nn as nn
import numpy as np
from train_step import mix_updates, prepare, timed_update  # type: ignore  # bench/ is not a package

from punie_runtime import numpy_exp
from punie_train import forward
from punie_train.dataset import make_batch

model, tokenizer, optimizer = prepare("default", -1)
U = int(sys.argv[1]) if len(sys.argv) > 1 else 3
groups = mix_updates(tokenizer, Path("data/contrast33"), U + 1)


def padded_loss(
    model: nn.Module,
    prefix: mx.array,
    padded: mx.array,
    positions: mx.array,
    targets: mx.array,
    weights: mx.array,
) -> mx.array:
    """`forward.batch_loss` with the suffixes as rows of one padded array."""
    cache = [forward.PrefixCache() for _ in model.layers]
    model(prefix[None], cache=cache)
    head = forward._head(model)
    assert head is not None  # SmolLM2's tied embedding
    h = model.model(padded, cache=cache)
    h = h.reshape(-1, h.shape[-1])
    logits = head(h[positions])
    losses = numpy_exp.cross_entropy(logits.astype(mx.float32), targets)
    return (losses * weights).sum()


def padded_args(group: list) -> tuple[tuple, int, list[int]]:
    """`padded_loss`'s arguments for one update's examples, the padded length, the lengths."""
    b = make_batch(group, 8)
    L = max(len(s) for s in b.suffixes)
    pad = np.zeros((len(b.suffixes), L), np.int32)
    for r, s in enumerate(b.suffixes):
        pad[r, : len(s)] = s
    # positions in make_batch are offsets into concatenation
    starts = np.cumsum([0] + [len(s) for s in b.suffixes])
    newpos = []
    for p in b.positions:
        r = np.searchsorted(starts, p, side="right") - 1
        newpos.append(r * L + (p - starts[r]))
    return (
        (
            mx.array(b.prefix),
            mx.array(pad),
            mx.array(np.array(newpos, np.int32)),
            mx.array(b.targets),
            mx.array(b.weights),
        ),
        L,
        [len(s) for s in b.suffixes],
    )


seq = [forward.batch_arrays(make_batch(g, 8)) for g in groups]
pad = [padded_args(g) for g in groups]
l1 = nn.value_and_grad(model, forward.batch_loss)(model, *seq[1])[0]
l2 = nn.value_and_grad(model, padded_loss)(model, *pad[1][0])[0]
print("loss seq", l1.item(), "padded", l2.item(), flush=True)
timed_update(model, optimizer, forward.batch_loss, [seq[0]])
timed_update(model, optimizer, padded_loss, [pad[0][0]])
for k in range(1, U + 1):
    a = timed_update(model, optimizer, forward.batch_loss, [seq[k]])
    b = timed_update(model, optimizer, padded_loss, [pad[k][0]])
    print(
        f"update {k}: lens {pad[k][2]} Lmax {pad[k][1]}: "
        f"sequential {a:.2f} s padded {b:.2f} s ratio {b / a:.2f}",
        flush=True,
    )
