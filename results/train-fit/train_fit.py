"""How well does a trained adapter choose the first tool of its own training requests?

Run from the repository root:

    PYTHONPATH=.:plugins .venv/bin/python results/train-fit/train_fit.py \
        --data data/phase33 --adapter runs/NAME/adapters-best --seed 0 [--iters 1600] [--sample 200]

Samples `--sample` first requests of DATA/train.jsonl (a fixed seeded draw, the same for every
adapter), rebuilds the training stream the run saw (`punie_train.mix.training_split` and
`punie_train.sampling.update_group` with the default config, `--seed` and `--iters`), marks each
sampled request seen when any example of that stream contains it, and asks the adapter for each
request's first tool through the training probe (greedy, up to the first tool name). Prints
seen / unseen accuracy, the classifier on the same requests, and per tool: mix size, distinct
examples the stream covered, and the model's misses. `--requests-out` keeps the sample (the
held-out scorer's JSONL format). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import attrs

from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas()

from punie_datagen.jsonl import read_chat_jsonl  # noqa: E402
from punie_eval.baseline import fit_classifier  # noqa: E402
from punie_eval.first_call import NO_TOOL, first_tool  # noqa: E402
from punie_tools import Registry  # noqa: E402
from punie_train.config import TrainConfig  # noqa: E402

Chat = list[dict[str, str]]


def sample_requests(chats: Sequence[Chat], names: Sequence[str], size: int) -> list[dict[str, str]]:
    """A seeded draw of `size` training chats' first requests with their first tools."""
    order = list(range(len(chats)))
    random.Random(5).shuffle(order)
    picked = []
    for index in order:
        user = next(m["content"] for m in chats[index] if m["role"] == "user")
        reply = next((m["content"] for m in chats[index] if m["role"] == "assistant"), "")
        tool = first_tool(reply, names)
        if tool == NO_TOOL:
            continue
        picked.append({"id": f"train-{index}", "category": "train", "tool": tool, "query": user})
        if len(picked) == size:
            break
    return picked


def seen_stream(
    chats: Sequence[Chat], registry: Registry, seed: int, iters: int, balance: str = "tool"
) -> tuple[list[str], Counter[str], Counter[str]]:
    """The decoded examples a default run (`seed`, `iters`, `balance`) trains on; mix and
    covered counts."""
    from punie_runtime.base_model import load_model
    from punie_train.mix import key_counts, training_split
    from punie_train.sampling import update_group

    names = [s.name for s in registry.tools()]
    _, tokenizer = load_model(None)
    config = attrs.evolve(TrainConfig(), seed=seed, iters=iters, balance=balance)
    split = training_split(
        chats,
        tokenizer,
        config,
        names,
        categories={s.name: s.category for s in registry.tools()},
    )
    keys = [e.key for e in split]
    power = config.balance_power
    cache: dict = {}
    per_update = config.batch_size * config.grad_accumulation_steps
    seen: set[int] = set()
    for update in range(iters // per_update):
        group = update_group(
            split.lengths,
            per_update,
            seed,
            update,
            cache,
            None if power is None else keys,
            power or 0.0,
        )
        seen.update(int(i) for i in group)
    texts = [tokenizer.decode(list(split[i].tokens)) for i in sorted(seen)]
    return texts, Counter(key_counts(split)), Counter(keys[i] for i in seen)


def held_out_scorer() -> ModuleType:
    """`results/heldout-requests/score.py`, whose `score_models` asks adapters through the probe."""
    path = Path(__file__).parent.parent / "heldout-requests" / "score.py"
    spec = importlib.util.spec_from_file_location("heldout_score", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    """Score the adapters on a sample of their own training requests, seen and unseen apart."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--adapter", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0, help="the run's seed (its training stream)")
    parser.add_argument(
        "--iters", type=int, default=TrainConfig().iters, help="the run's iterations"
    )
    parser.add_argument("--balance", default="tool", help="the run's --balance")
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--requests-out", type=Path)
    args = parser.parse_args()
    registry = Registry.load()
    names = [s.name for s in registry.tools()]
    chats = read_chat_jsonl(args.data / "train.jsonl")
    requests = sample_requests(chats, names, args.sample)
    if args.requests_out is not None:
        args.requests_out.write_text("".join(json.dumps(r) + "\n" for r in requests))
    texts, mix, covered = seen_stream(chats, registry, args.seed, args.iters, args.balance)
    seen = [any(r["query"] in t for t in texts) for r in requests]
    classifier = fit_classifier(chats, names).predict([r["query"] for r in requests])
    label = f"model, {args.adapter}"
    scored = held_out_scorer().score_models([(label, args.adapter)], requests, registry, names)
    chosen = scored[label]
    right = [r["tool"] == c for r, c in zip(requests, chosen, strict=True)]
    fitted = sum(r["tool"] == c for r, c in zip(requests, classifier, strict=True))
    print(f"\nclassifier: {fitted}/{len(requests)}")
    for flag, name in ((True, "seen"), (False, "unseen")):
        hits = [h for h, s in zip(right, seen, strict=True) if s is flag]
        print(f"model, {name} in the stream: {sum(hits)}/{len(hits)}")
    asked = Counter(r["tool"] for r in requests)
    missed = Counter(r["tool"] for r, h in zip(requests, right, strict=True) if not h)
    print("\n| tool | mix | covered | share covered | sampled | model missed |")
    print("|---|---|---|---|---|---|")
    for tool in sorted(mix, key=lambda t: -mix[t]):
        print(
            f"| {tool} | {mix[tool]} | {covered[tool]} | {covered[tool] / mix[tool]:.2f} "
            f"| {asked[tool]} | {missed[tool]} |"
        )


if __name__ == "__main__":
    main()
