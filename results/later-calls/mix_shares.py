"""Share of a balanced epoch taken by first calls, later calls and whole chats, per repeat.

Reads data/phase33/train.jsonl (the default split) and the registry's tool names; the mix
is the default's (call examples beside a seeded 30% of whole chats, seed 0, balance: tool).
Prints one line per `later_call_repeat`; asserts nothing.

    PYTHONPATH=.:plugins .venv/bin/python results/later-calls/mix_shares.py
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from punie_eval.first_call import NO_TOOL, first_tool
from punie_tools.registry import Registry
from punie_train.mix import call_cuts, whole_chats


def main() -> None:
    """Print the expected shares for repeats 1 to 5."""
    names = {spec.name for spec in Registry.load().tools()}
    lines = Path("data/phase33/train.jsonl").read_text().splitlines()
    chats = [json.loads(line)["messages"] for line in lines]
    kept = set(whole_chats(len(chats), 0.3, 0).tolist())
    for repeat in range(1, 6):
        examples: list[tuple[str, str]] = []  # (balance key, kind)
        for index, messages in enumerate(chats):
            cuts = call_cuts(messages)
            if index in kept or not cuts:
                key = first_tool(messages[cuts[0][0]]["content"], names) if cuts else NO_TOOL
                examples.append((key, "whole"))
            for position, (at, _turn) in enumerate(cuts):
                key = first_tool(messages[at]["content"], names)
                kind = "later" if position else "first"
                examples += [(key, kind)] * (repeat if position else 1)
        per_key = Counter(key for key, _ in examples)
        share: dict[str, float] = {"first": 0.0, "later": 0.0, "whole": 0.0}
        for key, kind in examples:  # every key gets 1/len(per_key) of a balanced epoch
            share[kind] += 1 / per_key[key] / len(per_key)
        parts = ", ".join(f"{kind} {share[kind]:.1%}" for kind in ("first", "later", "whole"))
        print(f"repeat {repeat}: {len(examples)} examples; balanced epoch: {parts}")


if __name__ == "__main__":
    main()
