# ruff: noqa: E402 - paths and the BLAS are set up before the imports that need them
"""A warm-up update, then UPDATES timed training updates of the default mix: the body to profile.

PYTHONPATH=.:plugins:bench perf record -F 499 -o perf.data -- \
    .venv/bin/python results/speed-profile/perf_updates.py [UPDATES]
perf report -i perf.data -s pid,sym --stdio --time 45%-100%

Asserts nothing; prints each update's seconds.
"""

import sys

sys.path[:0] = [".", "plugins", "bench"]
from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)
from pathlib import Path

from train_step import mix_updates, prepare, timed_update  # type: ignore  # bench/ is not a package

from punie_train import forward
from punie_train.dataset import make_batch

model, tokenizer, optimizer = prepare("default", -1)
U = int(sys.argv[1]) if len(sys.argv) > 1 else 2
groups = mix_updates(tokenizer, Path("data/contrast33"), U + 1)
seq = [forward.batch_arrays(make_batch(g, 8)) for g in groups]
timed_update(model, optimizer, forward.batch_loss, [seq[0]])
print("START", flush=True)
for k in range(1, U + 1):
    a = timed_update(model, optimizer, forward.batch_loss, [seq[k]])
    print(f"update {k}: {a:.2f} s", flush=True)
