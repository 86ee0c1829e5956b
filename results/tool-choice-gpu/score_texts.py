"""Score run 3's final replies on the CPU: the first tool, the closing tag, the type check.

    python results/tool-choice-gpu/score_texts.py [--run run3] [--probe .gpu/probe.npz]

The GPU screen keeps each configuration's greedy continuation (160 tokens) after the start of
a Code Mode call for every probe request. Here each is cut at ``</parameter>`` and judged the
way the evaluation's first rungs judge a reply: did the code close within the budget, is its
first tool the expected one, does it type-check against the tools' stubs (monty, as
``punie_datagen --type-check`` and the evaluation do), and how many tokens did it take.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

from punie_datagen.codecheck import calls_in_order
from punie_datagen.typecheck import StubTypeChecker
from punie_runtime.tokens import count_tokens
from punie_tools import Registry
from punie_tools.stubs import stubs

HERE = Path(__file__).resolve().parent
END = "</parameter>"


def main() -> None:
    """Print one row per configuration and write ``<run>/replies.md``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", default="run3")
    parser.add_argument("--probe", type=Path, default=Path(".gpu/probe.npz"))
    args = parser.parse_args()
    registry = Registry.load()
    names = {s.name for s in registry.tools()}
    checker = StubTypeChecker(stubs(registry.tools()))
    expected = [str(x) for x in np.load(args.probe)["expected"]]
    lines = [
        "| config | replies | first tool right | code closed | type-checks "
        "| right tool and type-checks | tokens to close (mean / p95) |",
        "|---|---|---|---|---|---|---|",
    ]
    for raw in (HERE / args.run / "results.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(raw)
        texts = row["curve"][-1].get("texts")
        if not texts:
            continue
        right = closed = typed = both = 0
        lengths: list[int] = []
        for text, want in zip(texts, expected, strict=True):
            code, found, _ = text.partition(END)
            calls = calls_in_order(code, names)
            first_ok = bool(calls) and calls[0] == want
            ok_type = bool(found) and checker(code.strip()) is None
            right += first_ok
            closed += bool(found)
            typed += ok_type
            both += first_ok and ok_type
            if found:
                lengths.append(count_tokens(code + END))
        n = len(texts)
        p95 = sorted(lengths)[int(0.95 * (len(lengths) - 1))] if lengths else 0
        mean = statistics.mean(lengths) if lengths else 0.0
        lines.append(
            f"| {row['name']} | {n} | {right / n:.1%} | {closed / n:.1%} | {typed / n:.1%} "
            f"| {both / n:.1%} | {mean:.0f} / {p95} |"
        )
    table = "\n".join(lines) + "\n"
    (HERE / args.run / "replies.md").write_text(table, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
