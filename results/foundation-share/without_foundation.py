"""Copy a dataset folder with the foundation set's chats left out of its train split.

A chat is the foundation set's when its first user message is one of the foundation examples'
first user messages (`punie_datagen.foundation.load_foundation`); datagen writes only the
messages, so this is how its source is told apart. The valid split is copied as it is (the
training probe and the validation loss stay comparable); no manifest is written, so
`python -m punie_train --data OUT` trains on the folder as given:

    PYTHONPATH=.:plugins python results/foundation-share/without_foundation.py \
        --data data/contrast33 --out data/nofoundation33
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from punie_datagen.foundation import load_foundation


def foundation_requests() -> set[str]:
    """The first user message of every foundation example, stripped."""
    requests = set()
    for example in load_foundation().examples:
        users = [m.content for m in example.messages if m.role == "user"]
        if users:
            requests.add(users[0].strip())
    return requests


def first_request(messages: list[dict[str, str]]) -> str:
    """A chat's first user message, stripped ('' when it has none)."""
    return next((m["content"].strip() for m in messages if m["role"] == "user"), "")


def main() -> None:
    """Write OUT/train.jsonl without the foundation chats and OUT/valid.jsonl unchanged."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="dataset folder to read")
    parser.add_argument("--out", type=Path, required=True, help="folder to write")
    args = parser.parse_args()
    known = foundation_requests()
    lines = (args.data / "train.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [
        line
        for line in lines
        if line.strip() and first_request(json.loads(line)["messages"]) not in known
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "train.jsonl").write_text("".join(kept), encoding="utf-8")
    shutil.copyfile(args.data / "valid.jsonl", args.out / "valid.jsonl")
    print(f"{args.out}: {len(kept)} of {len(lines)} train chats kept (foundation left out)")


if __name__ == "__main__":
    main()
