"""One rank of a data-parallel tiny training, for the distributed tests and the bench.

``mlx.launch --backend ring -n 2 -- python -m tests.train.dist_driver MODEL_DIR RUN_DIR
[--resume] [--iters N] [--batch-size B] [--accumulation A] [--save-every S] [--chats C]``
trains the tiny llama of ``tests/train/tiny.py`` with `punie_train.trainer.train` as every
rank of ``python -m punie_train`` does (rank 0 holds the run lock and writes; the others
only train their shares) and prints the summary as one JSON line on rank 0 (`train_s`: the
seconds of the updates alone, `comm_s`: the part spent summing over the ranks). `--model-dir`
may be any mlx-lm model directory; the chats are always the tiny ones. Run without a
launcher it is the one-process reference. Exits 2 with the message on a `TrainError` (a lost
rank, a batch that does not divide).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any

from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas()

from rich.console import Console  # noqa: E402

from punie_train.config import LoraParameters, LrSchedule, TrainConfig  # noqa: E402
from punie_train.runlock import RunLock  # noqa: E402
from tests.train.tiny import chats  # noqa: E402


def config_of(args: argparse.Namespace) -> TrainConfig:
    """The tiny run's training config from the command line."""
    return TrainConfig(
        model=str(args.model_dir),
        iters=args.iters,
        batch_size=args.batch_size,
        grad_accumulation_steps=args.accumulation,
        num_layers=2,
        learning_rate=2e-3,
        lr_schedule=LrSchedule(warmup=2, warmup_init=1e-4),
        lora_parameters=LoraParameters(rank=4, scale=10.0),
        steps_per_report=args.accumulation,
        steps_per_eval=args.save_every,
        save_every=args.save_every,
        val_batches=-1,
    )


def main(argv: list[str] | None = None) -> int:
    """Train (or resume) once on this rank; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m tests.train.dist_driver")
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--iters", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--accumulation", type=int, default=2)
    parser.add_argument("--save-every", type=int, default=4)
    parser.add_argument("--chats", type=int, default=12)
    args = parser.parse_args(argv)
    from mlx_lm import load

    from punie_train.distributed import DistributedError, world
    from punie_train.trainer import TrainError, train

    ranks = world()
    loaded: Any = load(str(args.model_dir))
    lock: Any = contextlib.nullcontext()
    if ranks.leader:
        args.run_dir.mkdir(parents=True, exist_ok=True)
        lock = RunLock(args.run_dir)
    try:
        with lock:
            summary = train(
                config_of(args),
                loaded[0],
                loaded[1],
                chats(args.chats),
                chats(args.chats + 4)[args.chats :],
                args.run_dir,
                resume=args.resume,
                console=Console(file=io.StringIO()),
            )
    except (TrainError, DistributedError) as error:
        print(f"rank {ranks.rank}: error: {error}", file=sys.stderr, flush=True)
        return 2
    if ranks.leader:
        lines = summary.log_path.read_text(encoding="utf-8").splitlines()
        trains = [e for e in map(json.loads, lines) if e["event"] == "train"]
        print(
            json.dumps(
                {
                    "ranks": summary.ranks,
                    "updates": summary.updates,
                    "wall_s": summary.wall_time_s,
                    "train_s": trains[-1]["elapsed_s"] if trains else 0.0,
                    "comm_s": summary.comm_time_s,
                    "tokens_per_s": summary.tokens_per_s,
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
