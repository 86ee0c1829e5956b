"""The word-count classifier fitted on train splits whose requests had a share of paths swapped.

A cheap first look at `path_swap` (deterministic, seconds): the classifier of the report fitted
on data/phase33's train split with each chat's request paths swapped at rate SHARE
(`punie_train.path_swap`, the trainer's pools and draws), scored on the 69 eval queries and
both held-out request sets as written. Prints one row per share.

    PYTHONPATH=.:plugins .venv/bin/python results/path-swap/classifier_proxy.py --data data/phase33
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from punie_datagen.jsonl import read_chat_jsonl
from punie_eval.baseline import evaluate_classifier, fit_classifier
from punie_eval.first_call import first_tool
from punie_tools import Registry
from punie_train.path_swap import path_pools, with_paths_swapped

ROOT = Path(__file__).resolve().parents[1]
SETS = (ROOT / "heldout-requests/requests.jsonl", ROOT / "heldout-requests-2/requests.jsonl")


def main() -> None:
    """Print eval / set 1 / set 2 / pooled first-tool counts per share."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--shares", type=float, nargs="+", default=[0.0, 0.3, 0.5, 1.0])
    parser.add_argument("--requests", type=Path, nargs=2, default=SETS, help="the two sets")
    args = parser.parse_args()
    registry = Registry.load()
    names = [spec.name for spec in registry.tools()]
    categories = {spec.name: spec.category for spec in registry.tools()}
    chats = read_chat_jsonl(args.data / "train.jsonl")
    pools = path_pools(chats, categories, names)
    sets = [[json.loads(x) for x in path.read_text().splitlines() if x] for path in args.requests]
    print("| share | eval (69) | set 1 (156) | set 2 (156) | pooled (381) |")
    print("|---|---|---|---|---|")
    for share in args.shares:
        rng = np.random.default_rng([0, 19])
        swapped = []
        for chat in chats:
            index = next((i for i, m in enumerate(chat) if m["role"] == "assistant"), 0)
            category = categories.get(first_tool(chat[index]["content"], names))
            if index and category is not None and rng.random() < share:
                chat = with_paths_swapped(chat, index, category, pools, rng)
            swapped.append(chat)
        classifier = fit_classifier(swapped, names)
        right = [evaluate_classifier(classifier, registry.eval_queries()).overall.right]
        for requests in sets:
            chosen = classifier.predict([r["query"] for r in requests])
            right.append(sum(c == r["tool"] for c, r in zip(chosen, requests, strict=True)))
        print(f"| {share} | {right[0]} | {right[1]} | {right[2]} | {sum(right)} |")


if __name__ == "__main__":
    main()
