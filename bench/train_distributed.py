"""Data-parallel training cost: seconds per update with 1 process and with 2 ranks, side by side.

Usage: .venv/bin/python bench/train_distributed.py [--model-dir DIR] [--iters N]
       [--batch-size B] [--accumulation A] [--chats C] [--ranks 2]

Runs `tests.train.dist_driver` (the tiny chats of `tests/train/tiny.py` through
`punie_train.trainer.train`) once as one plain process and once under
`mlx.launch --backend ring -n RANKS` on localhost, with the same global batch (B x A examples
per update), and prints per run: seconds per update, the part of it spent in the gradient and
loss sums across ranks (communication plus waiting for the slower rank), tokens per second.
The ranks run a third time with OPENBLAS_NUM_THREADS = cores / ranks (`mlx.launch --env`):
ranks sharing one machine otherwise each start a BLAS thread per core and fight over them.
Without --model-dir it builds the tiny random llama (hidden 64, 4 layers): those numbers show
the overhead of the launcher and the ring, not what a real model gains. Every number comes
from this run on this machine; prints, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    """A port the ring backend can start counting from."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return min(probe.getsockname()[1], 60000)


def run(command: list[str]) -> dict[str, float]:
    """Run one training; rank 0's summary line."""
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Measure and print; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--iters", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--accumulation", type=int, default=2)
    parser.add_argument("--chats", type=int, default=48)
    parser.add_argument("--ranks", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="punie-bench-dist-") as scratch:
        work = Path(scratch)
        model_dir = args.model_dir
        label = str(model_dir)
        if model_dir is None:
            from tests.train.tiny import build_model_dir

            model_dir = build_model_dir(work / "tiny-model")
            label = "tiny random llama (hidden 64, 4 layers)"
        driver = [sys.executable, "-m", "tests.train.dist_driver", str(model_dir)]
        flags = ["--iters", str(args.iters), "--save-every", str(args.iters)]
        flags += ["--batch-size", str(args.batch_size), "--accumulation", str(args.accumulation)]
        flags += ["--chats", str(args.chats)]
        launch = [str(Path(sys.executable).with_name("mlx.launch")), "--backend", "ring"]
        launch += ["-n", str(args.ranks), "--starting-port", str(free_port()), "--"]
        threads = max(1, (os.cpu_count() or 1) // args.ranks)
        split = [*launch[:-1], "--env", f"OPENBLAS_NUM_THREADS={threads}", "--"]
        results = {
            "1": run([*driver, str(work / "one"), *flags]),
            str(args.ranks): run([*launch, *driver, str(work / "many"), *flags]),
            f"{args.ranks}, {threads} BLAS thread(s) each": run(
                [*split, *driver, str(work / "split"), *flags]
            ),
        }
    global_batch = args.batch_size * args.accumulation
    print(f"model: {label}; global batch {global_batch} examples per update")
    print(f"{'ranks':<28} {'updates':>7} {'s/update':>9} {'comm s/update':>13} {'tok/s':>8}")
    for ranks, result in results.items():
        updates = max(result["updates"], 1)
        print(
            f"{ranks:<28} {result['updates']:>7} {result['train_s'] / updates:>9.4f} "
            f"{result['comm_s'] / updates:>13.4f} {result['tokens_per_s']:>8.0f}"
        )


if __name__ == "__main__":
    main()
