"""Screen training recipes for tool choice: short runs side by side, one knob changed at a time.

Every configuration trains from the same seed on the same split (data/phase33) for the same
budget of forward tokens (the CPU cost of training, which stays fair when other work shares
the machine; the minutes are reported too), then the tool-choice probe asks the final adapter
for the first tool of the valid split's requests (never the eval queries). One row per
configuration is appended to results.jsonl as soon as it finishes, and table.md is rewritten.

    python results/tool-choice-screen/screen.py [--budget 15000] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PREFIX = 390  # system prompt + chat header tokens, run once per update (shared prefix)
SUFFIX = {"none": 243, "only": 71, "add": 157}  # mean tokens after it, per mix (measured)

BASE: dict[str, Any] = {
    "learning_rate": 1e-4,
    "lora_scale": 20.0,
    "per_update": 4,
    "num_layers": -1,
}
CONFIGS: dict[str, dict[str, Any]] = {
    "phase33": {},
    "turn-weight": {"loss_weighting": "turn"},
    "calls-only": {"call_examples": "only", "per_update": 16},
    "calls-only-balanced": {"call_examples": "only", "balance": "tool", "per_update": 16},
    "calls-add-turn-balanced": {
        "call_examples": "add",
        "loss_weighting": "turn",
        "balance": "tool",
        "per_update": 16,
    },
    "calls-balanced-scale2-lr5e-4": {
        "call_examples": "only",
        "balance": "tool",
        "per_update": 16,
        "learning_rate": 5e-4,
        "lora_scale": 2.0,
    },
    "calls-balanced-lr3e-4": {
        "call_examples": "only",
        "balance": "tool",
        "per_update": 16,
        "learning_rate": 3e-4,
    },
    "calls-add-turn-balanced-lr3e-4": {
        "call_examples": "add",
        "loss_weighting": "turn",
        "balance": "tool",
        "per_update": 16,
        "learning_rate": 3e-4,
    },
}


def flags(knobs: dict[str, Any], iters: int) -> list[str]:
    """The punie_train flags of one configuration."""
    k = {**BASE, **knobs}
    warmup = max(1, iters // k["per_update"] // 10)
    out = [
        "--iters", str(iters),
        "--batch-size", "1",
        "--grad-accumulation-steps", str(k["per_update"]),
        "--learning-rate", str(k["learning_rate"]),
        "--lora-scale", str(k["lora_scale"]),
        "--num-layers", str(k["num_layers"]),
        "--warmup", str(warmup),
        "--steps-per-eval", str(iters),
        "--steps-per-report", str(k["per_update"]),
        "--save-every", str(iters),
        "--probe-examples", "0",
        "--seed", "0",
    ]  # fmt: skip
    for key in ("loss_weighting", "call_examples", "balance"):
        if key in k:
            out += [f"--{key.replace('_', '-')}", str(k[key])]
    return out


def iterations(knobs: dict[str, Any], budget: int) -> int:
    """Iterations (examples, batch 1) that spend about `budget` forward tokens."""
    k = {**BASE, **knobs}
    size = int(k["per_update"])
    per_update = PREFIX + size * SUFFIX[str(k.get("call_examples", "none"))]
    return max(1, round(budget / per_update)) * size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=int, default=15000, help="forward tokens per run")
    parser.add_argument("--only", nargs="*", default=None, help="configuration names to run")
    parser.add_argument("--probe-limit", type=int, default=64, help="valid requests probed")
    parser.add_argument(
        "--data", type=Path, default=ROOT / "data" / "phase33-v1", help="the split screened on"
    )
    args = parser.parse_args()
    rows_file = HERE / "results.jsonl"
    for name, knobs in CONFIGS.items():
        if args.only and name not in args.only:
            continue
        run_dir = ROOT / "runs" / "screen" / name
        iters = iterations(knobs, args.budget)
        command = [sys.executable, "-m", "punie_train", "--run-dir", str(run_dir), "--skip-eval"]
        command += ["--data", str(args.data)]
        tic = time.perf_counter()
        subprocess.run([*command, *flags(knobs, iters)], check=True, cwd=ROOT)
        wall = time.perf_counter() - tic
        probe = subprocess.run(
            [sys.executable, str(HERE / "probe_adapter.py"), str(run_dir / "adapters"),
             "--limit", str(args.probe_limit), "--data", str(args.data)],
            check=True, cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        events = [json.loads(line) for line in (run_dir / "train_log.jsonl").open()]
        trains = [e for e in events if e["event"] == "train"]
        vals = [e for e in events if e["event"] == "val"]
        row = {
            "name": name,
            "knobs": {**BASE, **knobs},
            "iters": iters,
            "updates": trains[-1]["update"],
            "train_min": trains[-1]["elapsed_s"] / 60,
            "wall_min": wall / 60,
            "final_train_loss": trains[-1]["train_loss"],
            "val_loss": vals[-1]["val_loss"],
            **json.loads(probe.stdout.strip().splitlines()[-1]),
        }
        with rows_file.open("a", encoding="utf-8") as out:
            out.write(json.dumps(row) + "\n")
        write_table(rows_file, HERE / "table.md")
        print(json.dumps(row), flush=True)


def write_table(rows_file: Path, table: Path) -> None:
    """table.md from every row in results.jsonl (the latest row per name)."""
    rows = {}
    for line in rows_file.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        rows[row["name"]] = row
    lines = [
        "| config | updates x examples | train min | val loss | probe first tool |",
        "|---|---|---|---|---|",
    ]
    for row in rows.values():
        lines.append(
            f"| {row['name']} | {row['updates']} x {row['knobs']['per_update']} | "
            f"{row['train_min']:.1f} | {row['val_loss']:.3f} | "
            f"{row['probe_accuracy']:.1%} ({row['probe_n']}) |"
        )
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
