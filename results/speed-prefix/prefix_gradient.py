"""How much the prefix gradient matters: exact vs detached prefix on real training updates.

For the first `--updates` updates of the default training stream (data/short33 or --data, the
default mix and seed), computes the update's gradient with the prefix's keys/values in the
gradient (exact) and kept out of it (`prefix_gradient: false`), then prints per update the
seconds of each, their ratio, and the cosine similarity and relative norm of the two gradients.
Prints, asserts nothing.

    .venv/bin/python results/speed-prefix/prefix_gradient.py [--data DIR] [--updates 6]
        [--adapter DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]

from punie_runtime.blas import ensure_fast_blas  # noqa: E402

ensure_fast_blas(reexec=True)

import argparse  # noqa: E402
import time  # noqa: E402
from typing import Any, cast  # noqa: E402

import mlx.core as mx  # noqa: E402
import mlx.nn as nn  # noqa: E402
from mlx.utils import tree_flatten, tree_map  # noqa: E402

from punie_datagen.jsonl import read_chat_jsonl  # noqa: E402
from punie_runtime.base_model import load_model  # noqa: E402
from punie_tools.registry import Registry  # noqa: E402
from punie_train.config import TrainConfig  # noqa: E402
from punie_train.dataset import split_batches  # noqa: E402
from punie_train.forward import batch_arrays, batch_loss  # noqa: E402
from punie_train.mix import training_split  # noqa: E402
from punie_train.sampling import update_group  # noqa: E402
from punie_train.step import TOKENS_PER_PASS, apply_adapters  # noqa: E402


def gradient(model: nn.Module, examples: list, prefix_gradient: bool) -> tuple[Any, float]:
    """The update's summed gradient and the seconds it took."""
    value_and_grad = nn.value_and_grad(model, batch_loss)
    tic = time.perf_counter()
    grads: Any = None
    for batch in split_batches(examples, len(examples), token_budget=TOKENS_PER_PASS):
        _, grad = value_and_grad(model, *batch_arrays(batch), prefix_gradient=prefix_gradient)
        grads = grad if grads is None else tree_map(mx.add, grads, grad)
        mx.eval(grads)
    return grads, time.perf_counter() - tic


def flat(grads: Any) -> mx.array:
    """Every gradient entry in one vector."""
    return mx.concatenate([cast(mx.array, v).reshape(-1) for _, v in tree_flatten(grads)])


def main() -> None:
    """Print exact vs detached prefix, update by update."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "data/short33"))
    parser.add_argument("--updates", type=int, default=6)
    parser.add_argument(
        "--adapter", default="", help="adapter dir to start from (default: fresh LoRA)"
    )
    args = parser.parse_args()
    config = TrainConfig()
    model, tokenizer = load_model("default")
    apply_adapters(model, config)
    if args.adapter:
        model.load_weights(str(Path(args.adapter) / "adapters.safetensors"), strict=False)
    names = [spec.name for spec in Registry.load().tools()]
    chats = read_chat_jsonl(Path(args.data) / "train.jsonl")
    split = training_split(chats, tokenizer, config, names)
    lengths = split.lengths
    keys = [e.key for e in split]
    cache: dict[int, list] = {}
    per_update = config.batch_size * config.grad_accumulation_steps
    print(f"{len(split)} examples; updates of {per_update}; {config.call_examples} mix")
    print("update | tokens | exact s | detached s | ratio | cosine | |detached|/|exact|")
    total = [0.0, 0.0]
    for update in range(args.updates):
        group = update_group(lengths, per_update, config.seed, update, cache, keys)
        examples = [split[int(i)] for i in group]
        exact, t_exact = gradient(model, examples, True)
        detached, t_detached = gradient(model, examples, False)
        a, b = flat(exact), flat(detached)
        cosine = (a * b).sum() / (mx.linalg.norm(a) * mx.linalg.norm(b))
        norm = mx.linalg.norm(b) / mx.linalg.norm(a)
        total[0] += t_exact
        total[1] += t_detached
        tokens = sum(len(e) for e in examples)
        print(
            f"{update} | {tokens} | {t_exact:.1f} | {t_detached:.1f} | "
            f"{t_detached / t_exact:.2f} | {cosine.item():.4f} | {norm.item():.3f}"
        )
    print(f"all | | {total[0]:.1f} | {total[1]:.1f} | {total[1] / total[0]:.2f} | |")


if __name__ == "__main__":
    main()
