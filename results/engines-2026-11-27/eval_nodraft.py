"""`python -m punie_train` with llama.cpp's prompt-lookup drafting off: the A/B baseline.

    PYTHONPATH=.:plugins .venv/bin/python results/engines-2026-11-27/eval_nodraft.py \
        --adapter DIR --skip-base --run-dir runs/NAME

Every argument goes to `punie_train` unchanged; only `LlamaGenerator`'s default
`draft_tokens` is set to 0 first.
"""

from __future__ import annotations

import runpy
import sys

import punie_runtime.llama_generate as llama_generate

defaults = llama_generate.LlamaGenerator.__init__.__kwdefaults__
assert defaults is not None
defaults["draft_tokens"] = 0
sys.argv = ["punie_train", *sys.argv[1:]]
runpy.run_module("punie_train", run_name="__main__")
