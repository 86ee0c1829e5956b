"""Seconds per update of each run of `ab.sh`, from its train_log.jsonl (the first update left out).

python results/speed-ranks/table.py [/tmp/speed-ranks]
"""

from __future__ import annotations

import itertools
import json
import statistics
import sys
from pathlib import Path


def update_seconds(run: Path) -> list[float]:
    """Seconds of each logged update after the first (one `train` event per update)."""
    events = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    elapsed = [e["elapsed_s"] for e in events if e.get("event") == "train"]
    return [b - a for a, b in itertools.pairwise(elapsed)]


def main() -> None:
    """Print a markdown table: run, updates, median and mean seconds per update."""
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/speed-ranks")
    print("| run | updates timed | median s/update | mean s/update |")
    print("|---|---|---|---|")
    for run in sorted(p for p in root.iterdir() if (p / "train_log.jsonl").exists()):
        seconds = update_seconds(run)
        print(
            f"| {run.name} | {len(seconds)} | {statistics.median(seconds):.2f} | "
            f"{statistics.mean(seconds):.2f} |"
        )


if __name__ == "__main__":
    main()
