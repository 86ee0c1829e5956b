# ruff: noqa: E402 - paths and the BLAS are set up before the imports that need them
"""mlx generation with mlx's own kernels and with `numpy_exp`, query by query.

PYTHONPATH=.:plugins:bench .venv/bin/python results/speed-numpy-exp/decode.py [--adapter DIR]

The agent's real system prompt and the queries of `bench/generate.py`, greedy replies of up to
96 tokens from `punie_runtime.generate.Generator` (the engine evaluation and the agent use
with mlx): mlx's kernels, `numpy_exp` as installed, and `numpy_exp` with every op through
numpy (`SMALL = 0`), interleaved query by query. Prints seconds per query, decode
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
small = numpy_exp.SMALL
settings = {"mlx kernels": None, "numpy_exp": small, "numpy_exp, SMALL=0": 0}
totals = {label: [0.0, 0] for label in settings}
texts: dict[str, list[str]] = {label: [] for label in settings}
for query in QUERIES:
    for label, threshold in settings.items():
        if threshold is None:
            numpy_exp.uninstall(model)
        else:
            numpy_exp.install(model)
            numpy_exp.SMALL = threshold
        generator = Generator(model, tokenizer, max_tokens=96)
        generation = generator.generate(conversation(system, query, example=False))
        totals[label][0] += generation.seconds
        totals[label][1] += generation.generated_tokens
        texts[label].append(generation.text)
numpy_exp.SMALL = small
for label, (seconds, tokens) in totals.items():
    same = sum(a == b for a, b in zip(texts[label], texts["mlx kernels"], strict=True))
    print(
        f"{label:20s} {seconds / len(QUERIES):6.2f} s/query  {tokens / seconds:6.1f} tokens/s  "
        f"same text as mlx for {same} of {len(QUERIES)}"
    )
