# ruff: noqa: E402 - paths and the BLAS are set up before the imports that need them
"""mlx generation with mlx's own kernels and with `numpy_exp`, query by query.

PYTHONPATH=.:plugins:bench .venv/bin/python results/speed-numpy-exp/decode.py [--adapter DIR]

The agent's real system prompt and the queries of `bench/generate.py`, greedy replies of up to
96 tokens from `punie_runtime.generate.Generator` (the engine evaluation and the agent use
with mlx), the two settings interleaved query by query. Prints seconds per query, decode
tokens/s and whether the replies are the same text; asserts nothing.
"""

import sys

sys.path[:0] = [".", "plugins", "bench"]
from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)
import argparse

from generate import QUERIES, conversation, system_prompt  # type: ignore  # bench script

from punie_runtime import numpy_exp
from punie_runtime.base_model import load_model
from punie_runtime.generate import Generator

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--adapter", default=None, help="an adapter directory (default: base model)")
args = parser.parse_args()

model, tokenizer = load_model(None, args.adapter)
system = system_prompt()
totals = {False: [0.0, 0], True: [0.0, 0]}
same = 0
for query in QUERIES:
    texts = {}
    for enabled in (False, True):
        if enabled:
            numpy_exp.install(model)
        else:
            numpy_exp.uninstall(model)
        generator = Generator(model, tokenizer, max_tokens=96)
        generation = generator.generate(conversation(system, query, example=False))
        totals[enabled][0] += generation.seconds
        totals[enabled][1] += generation.generated_tokens
        texts[enabled] = generation.text
    same += texts[False] == texts[True]
for enabled, (seconds, tokens) in totals.items():
    label = "numpy exp" if enabled else "mlx kernels"
    print(f"{label:12s} {seconds / len(QUERIES):6.2f} s/query  {tokens / seconds:6.1f} tokens/s")
print(f"same reply text for {same} of {len(QUERIES)} queries")
