"""table.md from run1/ to run8/ results.jsonl: a row per configuration with its probe curve.

python results/tool-choice-gpu/table.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
MS_PER_TOKEN = 10.5
"""CPU milliseconds per forward token on the 2-core machine (turn-cut mix: 33 s per update of
3,149 tokens, measured 2026-11-26); turns the replica's token count into CPU minutes."""


def main() -> None:
    lines = [
        "| run | config | knobs changed from the default | updates x examples | est. CPU min "
        "| probe (valid split: 241, runs 5-8: 250) by update | final: all / the CPU probe's 64 "
        "| held-out requests (run 8) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    base = None
    for run in ("run1", "run2", "run3", "run4", "run5", "run6", "run7", "run8"):
        for line in (HERE / run / "results.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            knobs = row["knobs"]
            if base is None:
                base = knobs
            file = knobs.pop("file", "")
            now = file == "mix_now.npz"  # runs 5-8: the data of 2026-11-26 (first calls hoisted)
            contrast = file == "mix_contrast.npz"  # run 8: with the contrast templates
            cut = "turn" if "turn" in file or now or contrast else "line"
            knobs = {**knobs, "cut": cut}
            if run not in ("run1", "run2"):  # the template code: long (before) or short
                knobs["code"] = "long" if "long" in file else "short"
            if now or contrast:
                knobs["data"] = "contrast" if contrast else "hoisted"
            defaults = {"cut": "line", "seed": 0, "dropout": 0.0}  # knobs runs 1-2 did not record
            changed = {
                k: v
                for k, v in knobs.items()
                if base.get(k, defaults.get(k)) != v and k != "probe_every"
            }
            curve = row["curve"]
            points = ", ".join(f"{p['update']}: {p['probe_all']:.0%}" for p in curve)
            last = curve[-1]
            minutes = last["cpu_tokens"] * MS_PER_TOKEN / 60000
            changes = ", ".join(f"{k}={v}" for k, v in changed.items()) or "-"
            held = last.get("heldout")
            heldout = f"{held['right']}/{held['total']}" if held else "-"
            lines.append(
                f"| {run} | {row['name']} | {changes} | {knobs['updates']} x "
                f"{knobs['per_update']} | {minutes:.0f} | {points} | "
                f"{last['probe_all']:.1%} / {last['probe64']:.1%} | {heldout} |"
            )
    (HERE / "table.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
