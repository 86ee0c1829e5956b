"""The bag-of-words classifier's first-tool accuracy on the eval queries, per dataset folder.

Run from the repository root: ``PYTHONPATH=.:plugins .venv/bin/python
results/data-per-tool/classifier.py data/phase33 data/pt120``. It fits the report's baseline
(`punie_eval.baseline`) on each folder's train split and prints overall and per-category
accuracy, and how many train examples each folder has; it asserts nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from punie_eval.baseline import baseline_for_split
from punie_tools import Registry


def main(folders: list[str]) -> None:
    """Print one row per dataset folder."""
    registry = Registry.load()
    names = [spec.name for spec in registry.tools()]
    queries = registry.eval_queries()
    rows = []
    for folder in folders:
        result = baseline_for_split(Path(folder) / "train.jsonl", names, queries)
        cats = {c.name: c for c in result.categories}
        rows.append((folder, result, cats))
    header = sorted(rows[0][2])
    print("| data | train examples | overall | " + " | ".join(header) + " |")
    print("|---" * (len(header) + 3) + "|")
    for folder, result, cats in rows:
        cells = [f"{cats[c].right}/{cats[c].n}" for c in header]
        right, n = result.overall.right, result.overall.n
        overall = f"{right}/{n} = {right / n:.1%}"
        print(f"| {folder} | {result.train_examples} | {overall} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
