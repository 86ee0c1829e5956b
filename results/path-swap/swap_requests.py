"""Held-out requests with their file paths swapped for other paths of the same category.

A diagnostic: if a model's first-tool choice moves when only the file a request names changes
(to another file the category's tools work on), the model leans on the path, not the request's
words. Writes the swapped set to `--out`. Paths come from the train split's
requests, pooled per category (the category of the request's expected tool) and file suffix.

    PYTHONPATH=.:plugins python results/path-swap/swap_requests.py --requests R.jsonl \
        --data data/phase33 --out S.jsonl
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from punie_eval.first_call import first_tool
from punie_train.path_swap import file_paths


def main() -> None:
    """Write the swapped request set."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    requests = [json.loads(line) for line in args.requests.read_text().splitlines() if line]
    category = {r["tool"]: r["category"] for r in requests}
    pools: dict[tuple[str, str], set[str]] = defaultdict(set)
    for line in (args.data / "train.jsonl").read_text().splitlines():
        messages = json.loads(line)["messages"]
        user = next(m["content"] for m in messages if m["role"] == "user")
        reply = next((m["content"] for m in messages if m["role"] == "assistant"), "")
        called = first_tool(reply, category)
        if called not in category:
            continue
        for path in file_paths(user):
            pools[(category[called], Path(path).suffix)].add(path)
    rng = np.random.default_rng(args.seed)
    out, swapped = [], 0
    for request in requests:
        query = request["query"]
        for path in sorted(set(file_paths(query))):
            pool = sorted(pools[(request["category"], Path(path).suffix)] - {path})
            if pool:
                query = query.replace(path, pool[rng.integers(len(pool))])
        swapped += query != request["query"]
        out.append({**request, "query": query})
    args.out.write_text("".join(json.dumps(r) + "\n" for r in out))
    print(f"{swapped} of {len(out)} requests got another path")


if __name__ == "__main__":
    main()
