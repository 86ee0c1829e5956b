"""How the training chats' calling turns open their first tool call, per first tool.

python results/callstyle/openings.py [DATA_DIR ...]

For each dataset folder: per tool, how many train-split first calling turns reach the tool
name through ``NAME = `` (the name spelled by tokens with a leading space), ``print(``, or
anything else (a comprehension, ``len(``, a ``for``). Prints one markdown table per folder.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from pathlib import Path

from punie_datagen.jsonl import read_chat_jsonl
from punie_tools import Registry
from punie_train.dataset import TOOL_CALL_MARK
from punie_train.mix import call_name_span


def openings(data: Path, names: list[str]) -> dict[str, Counter[str]]:
    """Per first tool, the count of each opening among the train split's first calls."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for messages in read_chat_jsonl(data / "train.jsonl"):
        reply = next(
            (m["content"] for m in messages[2:] if m["role"] == "assistant"),
            "",
        )
        if TOOL_CALL_MARK not in reply:
            continue
        span = call_name_span(reply, names)
        if span is None:
            continue
        line = reply[: span[0]].split("\n")[-1]
        kind = "NAME = " if line.endswith(" = ") else "print(" if line == "print(" else "other"
        table[reply[span[0] : span[1]]][kind] += 1
    return table


def main() -> None:
    names = [spec.name for spec in Registry.load().tools()]
    for folder in sys.argv[1:] or ["data/phase33"]:
        table = openings(Path(folder), names)
        total: Counter[str] = sum(table.values(), Counter())
        print(f"\n{folder}: {sum(total.values())} first calls\n")
        print("| tool | NAME = | print( | other |\n|---|---|---|---|")
        for tool in sorted(table):
            row = table[tool]
            print(f"| {tool} | {row['NAME = ']} | {row['print(']} | {row['other']} |")
        print(f"| **all** | {total['NAME = ']} | {total['print(']} | {total['other']} |")


if __name__ == "__main__":
    main()
