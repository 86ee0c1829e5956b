"""Write a copy of a dataset whose train split has background sentences beside some requests.

    python results/context-sentences/augment.py --data data/contrast33 --out data/context33
        [--share 0.3] [--seed 33] [--skip-valid-of data/phase33]

A seeded `--share` of the train split's chats gets one sentence of `sentences.txt` (developer
chatter, never a request: "CI went red after the last merge.") before or after its first
user request, so the tool has to be read from the request and not from any word near it.
The valid split is copied unchanged; chats whose first request is in `--skip-valid-of`'s valid
split (the replica's probe requests) are left as they are, so the probe can still exclude them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
from pathlib import Path

HERE = Path(__file__).parent


def first_user(messages: list[dict]) -> int | None:
    """Index of the first user message."""
    return next((i for i, m in enumerate(messages) if m["role"] == "user"), None)


def with_context(query: str, sentence: str, before: bool) -> str:
    """The request with the background sentence before or after it."""
    query = query.strip()
    if before:
        return f"{sentence} {query}"
    joiner = " " if query[-1:] in ".?!:" else ". "
    return f"{query}{joiner}{sentence}"


def main() -> None:
    """Read the dataset, add the sentences, write the copy and print what changed."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--share", type=float, default=0.3)
    p.add_argument("--seed", type=int, default=33)
    p.add_argument("--skip-valid-of", type=Path, default=None)
    a = p.parse_args()
    sentences = [s for s in (HERE / "sentences.txt").read_text().splitlines() if s.strip()]
    skip: set[str] = set()
    if a.skip_valid_of is not None:
        for line in (a.skip_valid_of / "valid.jsonl").read_text().splitlines():
            messages = json.loads(line)["messages"]
            i = first_user(messages)
            if i is not None:
                skip.add(messages[i]["content"].strip())
    a.out.mkdir(parents=True, exist_ok=True)
    changed = total = 0
    lines = []
    for line in (a.data / "train.jsonl").read_text().splitlines():
        record = json.loads(line)
        messages = record["messages"]
        i = first_user(messages)
        total += 1
        if i is not None and messages[i]["content"].strip() not in skip:
            digest = hashlib.sha256(f"{a.seed}\0{messages[i]['content']}".encode()).digest()
            rng = random.Random(digest)
            if rng.random() < a.share:
                messages[i]["content"] = with_context(
                    messages[i]["content"], rng.choice(sentences), rng.random() < 0.5
                )
                changed += 1
        lines.append(json.dumps(record, sort_keys=True))
    (a.out / "train.jsonl").write_text("\n".join(lines) + "\n")
    shutil.copy(a.data / "valid.jsonl", a.out / "valid.jsonl")
    print(f"{changed} of {total} train chats got a background sentence; wrote {a.out}")


if __name__ == "__main__":
    main()
