# ruff: noqa: E402 - paths and the BLAS are set up before the imports that need them
"""The training probe's time with mlx's kernels and with `numpy_exp`, one adapter.

PYTHONPATH=.:plugins .venv/bin/python results/speed-numpy-exp/probe.py --adapter DIR

The tool-choice probe of a training run (`punie_train.probe.ToolProbe`: 64 requests of the
valid split of `data/phase33`, seed 0, the real system prompt, greedy up to the first tool
name) on the adapter as training holds it (not fused): mlx's kernels, `numpy_exp` as
installed, and `numpy_exp` with every op through numpy (`SMALL = 0`). Prints seconds and
accuracy of each; asserts nothing.
"""

import sys

sys.path[:0] = [".", "plugins"]
from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)
import argparse
from pathlib import Path

from punie_datagen.jsonl import read_chat_jsonl
from punie_runtime import numpy_exp
from punie_runtime.base_model import load_model
from punie_tools import Registry
from punie_tools.prompt import system_prompt
from punie_train.probe import ToolProbe, probe_decisions

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--adapter", required=True, help="an adapter directory")
args = parser.parse_args()

registry = Registry.load()
names = [spec.name for spec in registry.tools()]
chats = read_chat_jsonl(Path("data/phase33/valid.jsonl"))
probe = ToolProbe(
    probe_decisions(chats, names, limit=64, seed=0), system_prompt(registry.tools()), names
)
model, tokenizer = load_model(None, args.adapter)
small = numpy_exp.SMALL
for label, threshold in (("mlx kernels", None), ("numpy_exp", small), ("numpy_exp, SMALL=0", 0)):
    if threshold is None:
        numpy_exp.uninstall(model)
    else:
        numpy_exp.install(model)
        numpy_exp.SMALL = threshold
    result = probe.run(model, tokenizer)
    print(
        f"{label:20s} {result.seconds:6.1f} s for {result.n} requests, "
        f"first tool {result.accuracy:.1%}",
        flush=True,
    )
numpy_exp.SMALL = small
