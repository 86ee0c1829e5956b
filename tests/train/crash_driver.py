"""A training process for the crash tests: the tiny model trained in a locked run directory.

``python -m tests.train.crash_driver MODEL_DIR RUN_DIR [--resume] [--kill-at N] [--trace F]``
takes the run lock as ``python -m punie_train`` does, trains the tiny llama of
``tests/train/tiny.py`` with `punie_train.trainer.train` (checkpoints and validations every
two iterations, so there are many saves to be killed in) and exits 0. ``--kill-at N``
SIGKILLs it at its Nth file-system step in the run directory (`tests.faults`).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any

from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas()

import attrs  # noqa: E402  (after ensure_fast_blas, like every entry point)
from rich.console import Console  # noqa: E402

from punie_train.config import LoraParameters, LrSchedule, TrainConfig  # noqa: E402
from punie_train.runlock import RunLock  # noqa: E402
from tests import faults  # noqa: E402
from tests.train.tiny import chats  # noqa: E402

CONFIG = TrainConfig(
    model="tiny",
    iters=8,
    batch_size=1,
    grad_accumulation_steps=2,
    num_layers=2,
    learning_rate=2e-3,
    lr_schedule=LrSchedule(warmup=2, warmup_init=1e-4),
    lora_parameters=LoraParameters(rank=4, scale=10.0),
    steps_per_report=2,
    steps_per_eval=2,
    save_every=2,
    val_batches=-1,
)


def main(argv: list[str] | None = None) -> int:
    """Train (or resume) once; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m tests.train.crash_driver")
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--kill-at", type=int)
    parser.add_argument("--trace", type=Path)
    args = parser.parse_args(argv)
    from mlx_lm import load

    from punie_train.trainer import train

    loaded: Any = load(str(args.model_dir))
    args.run_dir.mkdir(parents=True, exist_ok=True)
    faults.install(args.run_dir, args.kill_at, args.trace)
    with RunLock(args.run_dir) as lock:
        if (stale := lock.stale_message()) is not None:
            print(stale, file=sys.stderr)
        train(
            attrs.evolve(CONFIG, model=str(args.model_dir)),
            loaded[0],
            loaded[1],
            chats(12),
            chats(16)[12:],
            args.run_dir,
            resume=args.resume,
            console=Console(file=io.StringIO()),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
