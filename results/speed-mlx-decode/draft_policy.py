"""Drafting settings of the numpy decoder on a trained adapter's first replies (issue 13).

A numpy pass of one token costs ~31 ms and a pass of 2-17 tokens ~75-95 ms
(`profile_pass.py`), so drafting pays only when a draft is mostly accepted. Each setting
answers the first turn of the same eval queries (real system prompt, greedy, the evaluation's
stops), interleaved query by query, beside mlx float32 with its drafting (8 tokens, 3- down
to 2-grams). Prints seconds per query, decode tokens/s, forward passes and whether each
reply's text equals mlx's.
Run: PYTHONPATH=.:plugins .venv/bin/python results/speed-mlx-decode/draft_policy.py \
         --adapter DIR [--queries 69]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)

import argparse  # noqa: E402
import statistics  # noqa: E402
from typing import Any  # noqa: E402

from punie_eval.evaluate import CALL_WITHIN_TOKENS  # noqa: E402
from punie_runtime.base_model import load_model  # noqa: E402
from punie_runtime.engines import fuse_adapters  # noqa: E402
from punie_runtime.generate import Generator  # noqa: E402
from punie_runtime.numpy_generate import NumpyGenerator  # noqa: E402
from punie_runtime.numpy_llama import NumpyLlama  # noqa: E402
from punie_tools import Registry  # noqa: E402
from punie_tools.prompt import system_prompt  # noqa: E402

SETTINGS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("no drafting", {"draft_tokens": 0}),
    (
        "8 tokens, 3- to 2-grams (mlx's)",
        {"draft_tokens": 8, "draft_ngram": 3, "draft_min_ngram": 2},
    ),
    ("8 tokens, 3-grams only", {"draft_tokens": 8, "draft_ngram": 3, "draft_min_ngram": 3}),
    ("16 tokens, 3- to 2-grams", {"draft_tokens": 16, "draft_ngram": 3, "draft_min_ngram": 2}),
    ("16 tokens, 4- to 3-grams", {"draft_tokens": 16, "draft_ngram": 4, "draft_min_ngram": 3}),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adapter", required=True, help="trained LoRA adapter directory")
    parser.add_argument("--queries", type=int, default=69, help="eval queries (first turns)")
    parser.add_argument("--max-tokens", type=int, default=384, help="reply cap")
    args = parser.parse_args()
    registry = Registry.load()
    system = {"role": "system", "content": system_prompt(registry.tools())}
    chats = [[system, {"role": "user", "content": q.query}] for q in registry.eval_queries()]
    chats = chats[: args.queries]
    model, tokenizer = load_model(None, args.adapter)
    fuse_adapters(model)
    options: dict[str, Any] = {"max_tokens": args.max_tokens, "call_within": CALL_WITHIN_TOKENS}
    generators: list[tuple[str, Any]] = [
        ("mlx float32 (8, 3- to 2-grams)", Generator(model, tokenizer, **options))
    ]
    for label, extra in SETTINGS:
        decoder = NumpyLlama.from_mlx(model)
        generator = NumpyGenerator(decoder, tokenizer, **options, **extra)
        generators.append((f"numpy, {label}", generator))
    for _, generator in generators:
        generator.prefill([system])
    outs: list[list[Any]] = [[] for _ in generators]
    for number, messages in enumerate(chats, 1):
        for index, (_, generator) in enumerate(generators):
            outs[index].append(generator.generate(messages))
        if number % 10 == 0:
            print(f"  {number}/{len(chats)} queries", flush=True)
    reference = outs[0]
    print(f"\n{len(chats)} eval queries, first reply, adapter {args.adapter}\n")
    print("| engine, drafting | s/query mean | p50 | decode tok/s | passes per token | same text |")
    print("|---|---|---|---|---|---|")
    for (label, _), out in zip(generators, outs, strict=True):
        seconds = [g.seconds for g in out]
        tokens = sum(g.generated_tokens for g in out)
        rate = tokens / sum(g.decode_seconds for g in out)
        passes = sum(g.forward_passes for g in out) / tokens
        same = sum(g.text == r.text for g, r in zip(out, reference, strict=True))
        print(
            f"| {label} | {statistics.mean(seconds):.2f} | {statistics.median(seconds):.2f} | "
            f"{rate:.1f} | {passes:.2f} | {same}/{len(out)} |"
        )


if __name__ == "__main__":
    main()
