"""Write a copy of a dataset folder whose foundation examples are capped per first-called tool.

The experiment in this folder's README: `python results/exp-balanced-iter200/balance_mix.py
data/phase33 data/phase33-balanced --cap 20`. Generated examples and the valid split are kept
as they are; the manifest's example ids tell foundation from generated.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import shutil
from pathlib import Path

CALL = re.compile(r"\b([a-z_]+)\(")


def first_tool(example: dict, tools: set[str]) -> str | None:
    """The first registered tool an assistant turn calls, or None."""
    for message in example["messages"]:
        if message["role"] == "assistant":
            for name in CALL.findall(message["content"]):
                if name in tools:
                    return name
    return None


def main() -> None:
    """Parse the arguments and write the capped copy."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", type=Path, help="dataset folder written by punie_datagen")
    parser.add_argument("target", type=Path, help="folder to write train.jsonl/valid.jsonl to")
    parser.add_argument("--cap", type=int, default=20, help="foundation examples per tool")
    args = parser.parse_args()
    manifest = json.loads((args.source / "manifest.json").read_text(encoding="utf-8"))
    ids = manifest["files"]["train.jsonl"]["ids"]
    tools = set(manifest["counts"]["by_tool"])
    lines = (args.source / "train.jsonl").read_text(encoding="utf-8").splitlines()
    kept: list[str] = []
    seen: collections.Counter[str | None] = collections.Counter()
    for example_id, line in zip(ids, lines, strict=True):
        if example_id.startswith("foundation:"):
            tool = first_tool(json.loads(line), tools)
            if seen[tool] >= args.cap:
                continue
            seen[tool] += 1
        kept.append(line)
    args.target.mkdir(parents=True, exist_ok=True)
    (args.target / "train.jsonl").write_text("\n".join(kept) + "\n", encoding="utf-8")
    shutil.copy(args.source / "valid.jsonl", args.target / "valid.jsonl")
    print(f"{len(kept)} of {len(lines)} train examples kept")


if __name__ == "__main__":
    main()
