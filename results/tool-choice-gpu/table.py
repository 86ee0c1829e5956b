"""table.md from run1/ to run12/ results.jsonl: a row per configuration with its probe curve.

python results/tool-choice-gpu/table.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
MS_PER_TOKEN = 10.5
"""CPU milliseconds per forward token on the 2-core machine (turn-cut mix: 33 s per update of
3,149 tokens, measured 2026-11-26); turns the replica's token count into CPU minutes."""


DATA = {
    "mix_now.npz": "hoisted",  # runs 5-8: the data of 2026-11-26 (first calls hoisted)
    "mix_contrast.npz": "contrast",  # runs 8-12: with the contrast templates
    "mix_context.npz": "context",  # run 11: the contrast data + background sentences
}
"""The turn-cut mixes by file name and the dataset each was prepared from."""


def main() -> None:
    lines = [
        "| run | config | knobs changed from the default | updates x examples | est. CPU min "
        "| probe (valid split: 241, runs 5-8: 250) by update | final: all / the CPU probe's 64 "
        "| held-out requests (runs 8-12; EMA of the weights) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    base = None
    for run in [f"run{n}" for n in range(1, 13)]:
        for line in (HERE / run / "results.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            knobs = row["knobs"]
            if base is None:
                base = knobs
            file = knobs.pop("file", "")
            data = DATA.get(file)
            cut = "turn" if "turn" in file or data else "line"
            knobs = {**knobs, "cut": cut}
            if run not in ("run1", "run2"):  # the template code: long (before) or short
                knobs["code"] = "long" if "long" in file else "short"
            if data:
                knobs["data"] = data
            # knobs earlier runs did not record
            defaults = {"cut": "line", "seed": 0, "dropout": 0.0, "lr_b": 1.0, "extra": None}
            defaults["ema"] = 0.0
            changed = {
                k: v
                for k, v in knobs.items()
                if base.get(k, defaults.get(k)) != v and k not in ("probe_every", "ema")
            }
            curve = row["curve"]
            points = ", ".join(f"{p['update']}: {p['probe_all']:.0%}" for p in curve)
            last = curve[-1]
            minutes = last["cpu_tokens"] * MS_PER_TOKEN / 60000
            changes = ", ".join(f"{k}={v}" for k, v in changed.items()) or "-"
            held = last.get("heldout")
            heldout = f"{held['right']}/{held['total']}" if held else "-"
            if "ema" in last and "heldout" in last["ema"]:
                heldout += f" ({last['ema']['heldout']['right']})"
            lines.append(
                f"| {run} | {row['name']} | {changes} | {knobs['updates']} x "
                f"{knobs['per_update']} | {minutes:.0f} | {points} | "
                f"{last['probe_all']:.1%} / {last['probe64']:.1%} | {heldout} |"
            )
    (HERE / "table.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
