"""First tool right on the held-out sets, split by whether the tool has foundation chats.

Reads a dataset's train split (how many chats of each first tool come from the foundation
set) and `score.py --dump` files (each request's choices); prints, per tool and for the two
groups, how often each scorer in the dumps was right:

    cd results/foundation-share && PYTHONPATH=../..:../../plugins:. python by_source.py \
        --data ../../data/contrast33 ../heldout-requests-2/choices/set{1,2}-27f.jsonl \
        choices/set{1,2}-classifier-nofoundation.jsonl
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

from without_foundation import first_request, foundation_requests

from punie_datagen.jsonl import read_chat_jsonl
from punie_eval.first_call import first_tool
from punie_tools.registry import Registry


def train_counts(data: Path, names: list[str]) -> tuple[Counter[str], Counter[str]]:
    """Train chats per first tool, and how many of them are the foundation set's."""
    known = foundation_requests()
    total: Counter[str] = Counter()
    foundation: Counter[str] = Counter()
    for messages in read_chat_jsonl(data / "train.jsonl"):
        replies = [m["content"] for m in messages if m["role"] == "assistant"]
        tool = str(first_tool(replies[0], names)) if replies else "-"
        total[tool] += 1
        foundation[tool] += first_request(messages) in known
    return total, foundation


def main() -> None:
    """Print the per-tool table and the two groups' totals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="dataset folder (train split)")
    parser.add_argument("dumps", type=Path, nargs="+", help="score.py --dump files")
    args = parser.parse_args()
    names = [spec.name for spec in Registry.load().tools()]
    total, foundation = train_counts(args.data, names)
    right: dict[str, Counter[str]] = defaultdict(Counter)
    requests: dict[str, Counter[str]] = defaultdict(Counter)
    for dump in args.dumps:
        for line in dump.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            for scorer, chosen in record["chosen"].items():
                requests[scorer][record["tool"]] += 1
                right[scorer][record["tool"]] += chosen == record["tool"]
    scorers = sorted(right)
    asked = {tool for counts in requests.values() for tool in counts}
    print("| tool | train chats | foundation | " + " | ".join(scorers) + " |")
    print("|---" * (3 + len(scorers)) + "|")
    for tool in sorted(asked, key=lambda t: (foundation[t], total[t], t)):
        cells = [f"{right[s][tool]}/{requests[s][tool]}" for s in scorers]
        print(f"| {tool} | {total[tool]} | {foundation[tool]} | " + " | ".join(cells) + " |")
    for label, group in (
        ("tools without foundation chats", [t for t in asked if not foundation[t]]),
        ("tools with foundation chats", [t for t in asked if foundation[t]]),
    ):
        cells = []
        for scorer in scorers:
            hit = sum(right[scorer][t] for t in group)
            count = sum(requests[scorer][t] for t in group)
            cells.append(f"{hit}/{count} = {hit / count:.1%}" if count else "-")
        print(f"| **{label}** ({len(group)}) | | | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
