"""Training step speed on the embedded model: per length, per BLAS, and per loss layout.

Usage: .venv/bin/python bench/train_step.py [--model SPEC] [--num-layers N] [--data DIR]
       [--lengths 256 512 1024] [--no-reference] [--no-layers]

1. Seconds per optimizer step on one sequence of 256/512/1024 tokens (every token a target,
   as plain `mlx_lm lora` computes it), the model FLOPs of that step and the GFLOP/s achieved,
   next to the float32 matmul GFLOP/s of the same BLAS.
2. The same step under the wheel's reference BLAS (a subprocess with PUNIE_BLAS=reference,
   one step) and the ratio to the OpenBLAS path.
3. One optimizer update (batch 1 x accumulation 4) on real examples (the dataset in --data, or
   the vendored foundation set with the registry's system prompt, as punie_datagen builds it),
   four ways: mlx-lm style (four micro-batches, full logits); one right-padded batch of four;
   the four each on their own in one graph with logits only on target tokens; that plus the
   shared system-prompt prefix run once (the trainer's path). `--packed` adds the four packed
   into one row with a block-diagonal mask (slow: attention over the whole row).
4. The trainer's update with 8, 16 and all layers adapted.
5. The trainer's gradient, mlx's `value_and_grad` against `punie_train.numpy_gradient`, on
   `--updates` updates of 8 examples of the default mix of --data (data/phase33 by default),
   run alternately, with the ratio (`--only-gradient` runs this section alone).

Every number comes from this run on this machine; prints, asserts nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from typing import Any  # noqa: E402

import mlx.core as mx  # noqa: E402
import mlx.nn as nn  # noqa: E402
import numpy as np  # noqa: E402
from mlx.utils import tree_map  # noqa: E402
from mlx_lm.models.base import create_causal_mask  # noqa: E402

from punie_datagen.jsonl import read_chat_jsonl  # noqa: E402
from punie_runtime.base_model import load_model  # noqa: E402
from punie_runtime.blas import blas_report  # noqa: E402
from punie_train.config import TrainConfig  # noqa: E402
from punie_train.dataset import (  # noqa: E402
    TokenizedExample,
    make_batch,
    split_batches,
    tokenize_split,
)
from punie_train.forward import batch_arrays, batch_loss  # noqa: E402
from punie_train.numpy_gradient import NumpyGradient  # noqa: E402
from punie_train.sampling import epoch_groups  # noqa: E402
from punie_train.trainer import apply_adapters, build_optimizer  # noqa: E402

TARGET_SHARE = 1.0  # section 1: every token a target, like mlx-lm without masking


def prepare(spec: str, num_layers: int) -> tuple[nn.Module, Any, Any]:
    """The model with adapters as the trainer sets it up, its tokenizer and an optimizer."""
    model, tokenizer = load_model(spec)
    config = TrainConfig(num_layers=num_layers)
    apply_adapters(model, config)
    return model, tokenizer, build_optimizer(config)


def random_adapters(model: nn.Module, seed: int = 2) -> None:
    """Draw every trainable matrix from N(0, 0.02) (seeded), so a gradient is not trivial."""
    rng = np.random.default_rng(seed)
    model.update(
        tree_map(
            lambda p: mx.array(rng.normal(0, 0.02, p.shape).astype(np.float32)),
            model.trainable_parameters(),
        )
    )


def mix_updates(
    tokenizer: Any, data: Path, updates: int, per_update: int = 8, seed: int = 1
) -> list[list[TokenizedExample]]:
    """`updates` groups of `per_update` distinct examples of the default training mix of
    `data`'s train split, drawn with `seed`."""
    from punie_tools import Registry
    from punie_train.mix import training_split

    names = [s.name for s in Registry.load().tools()]
    split = training_split(read_chat_jsonl(data / "train.jsonl"), tokenizer, TrainConfig(), names)
    chosen = np.random.default_rng(seed).choice(len(split), per_update * updates, replace=False)
    return [
        [split[int(i)] for i in chosen[k * per_update : (k + 1) * per_update]]
        for k in range(updates)
    ]


def mix_batch(tokenizer: Any, examples: int, seed: int = 1) -> tuple:
    """`examples` examples of the default training mix of data/phase33 drawn with `seed`,
    as one update's `batch_loss` arguments (shared prefix, suffixes, positions, ...)."""
    (group,) = mix_updates(tokenizer, Path("data/phase33"), 1, examples, seed)
    return batch_arrays(make_batch(group, examples))


def timed_update(
    model: nn.Module,
    optimizer: Any,
    loss: Callable[..., mx.array],
    inputs: Sequence[tuple],
    value_and_grad: Callable[..., tuple[mx.array, Any]] | None = None,
) -> float:
    """Seconds for one optimizer update accumulating the gradients of `loss` over `inputs`
    (computed by `value_and_grad` when given, else by mlx's)."""
    value_and_grad = value_and_grad or nn.value_and_grad(model, loss)
    start = time.perf_counter()
    grads: Any = None
    for args in inputs:
        _, grad = value_and_grad(model, *args)
        grads = grad if grads is None else tree_map(mx.add, grads, grad)
        mx.eval(grads)
    optimizer.update(model, grads)
    mx.eval(model.trainable_parameters(), optimizer.state)
    return time.perf_counter() - start


def full_example(length: int, vocab: int) -> TokenizedExample:
    """A random sequence whose every token (after the first) is a target."""
    rng = np.random.default_rng(length)
    tokens = rng.integers(3, vocab, length).astype(np.int32)
    return TokenizedExample(tokens, np.ones(length, dtype=bool))


def step_flops(model: nn.Module, tokens: int, targets: int, adapted: int) -> float:
    """Matmul FLOPs of a step: forward everywhere, input gradients through the adapted layers."""
    layers = model.layers
    per_layer = sum(
        m.weight.size
        for _, m in layers[0].named_modules()
        if isinstance(m, nn.Linear) and not hasattr(m, "linear")
    )
    per_layer = per_layer or sum(
        m.linear.weight.size for _, m in layers[-1].named_modules() if hasattr(m, "linear")
    )
    args = model.args
    head = args.vocab_size * args.hidden_size
    attention = (
        2
        * 2
        * tokens
        * tokens
        / 2
        * args.num_attention_heads
        * (args.hidden_size // args.num_attention_heads)
    )
    forward = 2 * tokens * per_layer * len(layers) + attention * len(layers) + 2 * targets * head
    backward = (2 * tokens * per_layer + 2 * attention) * adapted + 2 * targets * head
    return forward + backward


def section_lengths(args: argparse.Namespace) -> float | None:
    """Seconds per step at each length; returns the 256-token time for the BLAS ratio."""
    model, tokenizer, optimizer = prepare(args.model, args.num_layers)
    adapted = len(model.layers) if args.num_layers < 0 else args.num_layers
    report = blas_report(size=512)
    print(f"\n1. one step on one sequence, {adapted} of {len(model.layers)} layers adapted")
    print(f"   {report.describe()} (float32 512x512 matmul)")
    vocab = tokenizer.vocab_size
    warm = make_batch([full_example(64, vocab)], 1)
    timed_update(model, optimizer, batch_loss, [batch_arrays(warm)])
    at_256 = None
    for length in args.lengths:
        batch = make_batch([full_example(length, vocab)], 1)
        seconds = min(
            timed_update(model, optimizer, batch_loss, [batch_arrays(batch)])
            for _ in range(1 if length > 512 else 2)
        )
        flops = step_flops(model, length, length - 1, adapted)
        if length == 256:
            at_256 = seconds
        print(
            f"   {length:5d} tokens: {seconds:6.2f} s/step  {length / seconds:6.0f} tokens/s  "
            f"{flops / 1e9:6.0f} GFLOP/step -> {flops / seconds / 1e9:5.1f} GFLOP/s "
            f"({flops / seconds / 1e9 / report.gflops:.0%} of the matmul rate)"
        )
    return at_256


def reference_child(spec: str, num_layers: int) -> None:
    """In the PUNIE_BLAS=reference subprocess: time one 256-token step, print JSON."""
    model, tokenizer, optimizer = prepare(spec, num_layers)
    vocab = tokenizer.vocab_size
    timed_update(
        model, optimizer, batch_loss, [batch_arrays(make_batch([full_example(32, vocab)], 1))]
    )
    batch = make_batch([full_example(256, vocab)], 1)
    seconds = timed_update(model, optimizer, batch_loss, [batch_arrays(batch)])
    report = blas_report(size=256, repeats=2)
    print(json.dumps({"seconds": seconds, "gflops": report.gflops, "blas": report.state.note}))


def section_reference(args: argparse.Namespace, fast_256: float | None) -> None:
    """The stock wheel's BLAS on the same 256-token step, in a subprocess."""
    env = {**os.environ, "PUNIE_BLAS": "reference"}
    env.pop("LD_PRELOAD", None)
    command = [
        sys.executable,
        __file__,
        "--model",
        args.model,
        "--num-layers",
        str(args.num_layers),
        "--reference-child",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"\n2. reference BLAS run failed: {done.stderr.strip()[-400:]}")
        return
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\n2. stock wheel ({result['blas']}, {result['gflops']:.1f} GFLOP/s matmul)")
    line = f"   256 tokens: {result['seconds']:.2f} s/step"
    if fast_256:
        line += f" = {result['seconds'] / fast_256:.1f}x the OpenBLAS step ({fast_256:.2f} s)"
    print(line)


def system_prompt_text() -> str | None:
    """The registry's system prompt, as punie_datagen puts it in every example."""
    try:
        from punie_tools import Registry
        from punie_tools.prompt import system_prompt

        return system_prompt(Registry.load().tools())
    except Exception:  # a broken plugin set: keep the data's own prompts
        return None


def real_chats(data: Path | None) -> tuple[str, list[list[dict[str, str]]]]:
    """Chats from --data, else the vendored foundation set with the registry's system prompt."""
    if data is not None:
        return str(data), read_chat_jsonl(data / "train.jsonl")
    from punie_datagen.foundation import vendored_foundation

    chats = read_chat_jsonl(vendored_foundation() / "train.jsonl")
    prompt = system_prompt_text()
    if prompt is not None:
        system = {"role": "system", "content": prompt}
        chats = [[system, *(m for m in chat if m["role"] != "system")] for chat in chats]
    return "foundation + registry system prompt", chats


def packed_loss(
    model: nn.Module,
    tokens: mx.array,
    mask: mx.array,
    positions: mx.array,
    targets: mx.array,
    weights: mx.array,
) -> mx.array:
    """Loss of examples packed in one row, attention kept inside each example by the mask."""
    inner = model.model
    hidden = inner.embed_tokens(tokens)
    for layer in inner.layers:
        hidden = layer(hidden, mask)
    hidden = inner.norm(hidden)[0][positions]
    logits = inner.embed_tokens.as_linear(hidden)
    return (nn.losses.cross_entropy(logits, targets) * weights).sum()


def packed_inputs(examples: Sequence[TokenizedExample]) -> tuple[mx.array, ...]:
    """One row of all examples, a block-diagonal causal mask and the targets."""
    tokens = np.concatenate([e.tokens for e in examples])
    segment = mx.array(np.concatenate([np.full(len(e), i) for i, e in enumerate(examples)]))
    mask = (segment[:, None] == segment[None, :]) & create_causal_mask(len(tokens))
    batch = make_batch(examples, len(examples), share_prefix=False)
    return (
        mx.array(tokens[None]),
        mask,
        mx.array(batch.positions),
        mx.array(batch.targets),
        mx.array(batch.weights),
    )


def padded_loss(
    model: nn.Module, rows: mx.array, positions: mx.array, targets: mx.array, weights: mx.array
) -> mx.array:
    """Loss of right-padded rows in one pass (mlx-lm's batch layout), logits on targets."""
    hidden = model.model(rows)
    hidden = hidden.reshape(-1, hidden.shape[-1])[positions]
    logits = model.model.embed_tokens.as_linear(hidden)
    return (nn.losses.cross_entropy(logits, targets) * weights).sum()


def padded_inputs(examples: Sequence[TokenizedExample]) -> tuple[mx.array, ...]:
    """The examples as right-padded rows with flat target positions."""
    width = max(len(e) for e in examples)
    rows = np.zeros((len(examples), width), dtype=np.int32)
    positions = []
    for row, example in enumerate(examples):
        rows[row, : len(example)] = example.tokens
        positions.append(row * width + np.nonzero(example.mask[1:])[0])
    batch = make_batch(examples, len(examples), share_prefix=False)
    return (
        mx.array(rows),
        mx.array(np.concatenate(positions).astype(np.int32)),
        mx.array(batch.targets),
        mx.array(batch.weights),
    )


def mlx_lm_loss(model: nn.Module, tokens: mx.array, weights: mx.array) -> mx.array:
    """mlx-lm's `default_loss` with our mask: logits and cross-entropy at every position."""
    logits = model(tokens[:, :-1])
    return (nn.losses.cross_entropy(logits, tokens[:, 1:]) * weights).sum()


def mlx_lm_style(examples: Sequence[TokenizedExample]) -> list[tuple]:
    """Four micro-batches of one example each, as `mlx_lm lora` runs them."""
    inputs = []
    for example in examples:
        weights = example.mask[1:] / (example.n_trained * len(examples))
        inputs.append((mx.array(example.tokens[None]), mx.array(weights[None].astype(np.float32))))
    return inputs


def loss_with_head(
    model: nn.Module,
    prefix: mx.array,
    suffixes: list[mx.array],
    positions: mx.array,
    targets: mx.array,
    weights: mx.array,
    split_head: bool,
) -> mx.array:
    """`batch_loss` with the split-head switch as a positional argument."""
    return batch_loss(model, prefix, suffixes, positions, targets, weights, split_head=split_head)


def section_layouts(args: argparse.Namespace) -> list[TokenizedExample]:
    """One update of four real examples through each loss layout."""
    model, tokenizer, optimizer = prepare(args.model, args.num_layers)
    source, chats = real_chats(args.data)
    split = tokenize_split(chats[:200], tokenizer, max_seq_length=2048)
    groups = epoch_groups(split.lengths, 4, 0, 0)
    warm, group = [split[int(i)] for i in groups[0]], [split[int(i)] for i in groups[1]]
    tokens = sum(len(e) for e in group)
    trained = sum(e.n_trained for e in group)
    shared = make_batch(group, 4)
    print(
        f"\n3. one update of 4 real examples ({source}): {tokens} tokens, {trained} targets, "
        f"shared prefix {len(shared.prefix)} tokens"
    )
    timed_update(model, optimizer, batch_loss, [batch_arrays(make_batch(warm, 4))])
    layouts: list[tuple[str, Callable[..., mx.array], list[tuple]]] = [
        ("mlx-lm style: 4 micro-batches, full logits", mlx_lm_loss, mlx_lm_style(group)),
        ("padded batch of 4, logits on targets", padded_loss, [padded_inputs(group)]),
        (
            "1 graph, each example alone, logits on targets",
            loss_with_head,
            [(*batch_arrays(make_batch(group, 4, share_prefix=False)), True)],
        ),
        (
            "+ shared prefix once (the trainer's path)",
            loss_with_head,
            [(*batch_arrays(shared), True)],
        ),
    ]
    if args.packed:
        layouts.insert(
            2, ("packed in 1 row, block-diagonal mask", packed_loss, [packed_inputs(group)])
        )
    baseline = None
    for name, loss, inputs in layouts:
        seconds = timed_update(model, optimizer, loss, inputs)
        baseline = baseline or seconds
        print(
            f"   {name:44s} {seconds:6.2f} s  {tokens / seconds:5.0f} tokens/s  "
            f"{trained / seconds:5.0f} targets/s  x{baseline / seconds:.2f}"
        )
    return group


def section_layers(args: argparse.Namespace, group: list[TokenizedExample]) -> None:
    """The trainer's update with more or fewer adapted layers."""
    print("\n4. trainer update (same 4 examples) by adapted layers")
    batch = batch_arrays(make_batch(group, 4))
    for layers in (8, 16, -1):
        model, _, optimizer = prepare(args.model, layers)
        seconds = timed_update(model, optimizer, batch_loss, [batch])
        label = "all" if layers < 0 else str(layers)
        print(f"   {label:>3} layers: {seconds:6.2f} s/update")


def section_gradient(args: argparse.Namespace) -> None:
    """The trainer's update with mlx's gradient and with numpy's, alternately."""
    model, tokenizer, optimizer = prepare(args.model, args.num_layers)
    data = args.data or Path("data/phase33")
    groups = mix_updates(tokenizer, data, args.updates + 1)
    updates = [
        [batch_arrays(b) for b in split_batches(g, len(g), token_budget=3072)] for g in groups
    ]
    paths = {"mlx": nn.value_and_grad(model, batch_loss), "numpy": NumpyGradient(model)}
    print(f"\n5. the trainer's update ({args.updates} of 8 examples of {data}'s default mix)")
    for path in paths.values():  # warm-up
        timed_update(model, optimizer, batch_loss, updates[0], path)
    seconds: dict[str, float] = dict.fromkeys(paths, 0.0)
    for group, inputs in zip(groups[1:], updates[1:], strict=True):
        row = []
        for name, path in paths.items():
            took = timed_update(model, optimizer, batch_loss, inputs, path)
            seconds[name] += took
            row.append(f"{name} {took:5.2f} s")
        print(f"   {sum(len(e) for e in group):5d} tokens: {', '.join(row)}")
    ratio = seconds["numpy"] / seconds["mlx"]
    print(
        f"   total: mlx {seconds['mlx']:.1f} s, numpy {seconds['numpy']:.1f} s "
        f"-> numpy {ratio:.2f}x mlx's time ({1 / ratio:.2f}x the speed)"
    )


def main() -> None:
    """Run the sections asked for."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=TrainConfig().model, help="base model spec")
    parser.add_argument(
        "--num-layers", type=int, default=TrainConfig().num_layers, help="adapted layers, -1: all"
    )
    parser.add_argument("--data", type=Path, default=None, help="folder with train.jsonl")
    parser.add_argument(
        "--lengths", type=int, nargs="+", default=[256, 512, 1024], help="section 1's lengths"
    )
    parser.add_argument("--no-reference", action="store_true", help="skip the stock BLAS run")
    parser.add_argument("--no-layers", action="store_true", help="skip section 4")
    parser.add_argument("--only-layouts", action="store_true", help="run section 3 only")
    parser.add_argument(
        "--packed", action="store_true", help="also time dense packing (minutes: O(n^2) attention)"
    )
    parser.add_argument(
        "--updates", type=int, default=3, help="section 5's timed updates (after one warm-up)"
    )
    parser.add_argument("--only-gradient", action="store_true", help="run section 5 only")
    parser.add_argument("--reference-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reference_child:
        reference_child(args.model, args.num_layers)
        return
    if args.only_gradient:
        section_gradient(args)
        return
    if not args.only_layouts:
        fast_256 = section_lengths(args)
        if not args.no_reference:
            section_reference(args, fast_256)
    group = section_layouts(args)
    if not args.no_layers and not args.only_layouts:
        section_layers(args, group)
    if not args.only_layouts:
        section_gradient(args)


if __name__ == "__main__":
    main()
