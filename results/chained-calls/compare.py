"""Compare the trained model of several runs' report.json query by query: workflows and misses.

    python results/chained-calls/compare.py results/tool-choice-full-2026-11-27f/report.json \
        runs/chained-1128d/report.json

Prints, per multi-step query, which tools each run called (a run passes a workflow when its
strict score is met), then the overall numbers side by side. Reads reports only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

METRICS = ("first_tool", "strict", "keyword", "tools_called", "args_right", "ran")


def main(paths: list[str]) -> None:
    """Print the comparison of the given reports."""
    reports = [json.loads(Path(p).read_text()) for p in paths]
    names = [Path(p).parent.name for p in paths]
    queries = [{q["id"]: q for q in r["trained"]["queries"]} for r in reports]
    print("workflow".ljust(24) + "".join(n[:28].ljust(30) for n in names))
    for qid, q in queries[0].items():
        if str(q["multi_step"]) != "True":
            continue
        cells = []
        for found in queries:
            mine = found[qid]
            ok = "PASS" if mine["ladder"].get("strict") else "fail"
            cells.append(f"{ok} {','.join(mine['called'])}"[:28].ljust(30))
        print(qid.ljust(24) + "".join(cells))
    print()
    passed = [
        sum(bool(q["ladder"].get("strict")) for q in f.values() if str(q["multi_step"]) == "True")
        for f in queries
    ]
    print("workflows passed".ljust(24) + "".join(str(p).ljust(30) for p in passed))
    for metric in METRICS:
        values = [r["trained"]["overall"].get(metric) for r in reports]
        print(metric.ljust(24) + "".join(f"{v:.1%}".ljust(30) for v in values))


if __name__ == "__main__":
    main(sys.argv[1:])
