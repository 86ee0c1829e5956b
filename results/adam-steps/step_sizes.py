"""How large the optimizer's steps are over a run, for a config, given the run's gradient norms.

One scalar parameter is driven by the gradient norms a run logged (`grad_norm`, the mean of
each report window, held constant inside the window) through the trainer's own optimizer
(`punie_train.step.build_optimizer`: the real mlx Adam and schedule). The step it takes at
update t is the learning rate times what Adam makes of the gradient; for a parameter whose
gradient follows the global norm that is the step's size. It shows the schedule Adam actually
applies, not the one the learning rate names:

    python results/adam-steps/step_sizes.py \
        --log results/tool-choice-full-2026-11-27k/train_log.jsonl \
        --config results/adam-steps/bc-b2-0.95-lr2e-3.yaml
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import mlx.core as mx
import numpy as np

from punie_train.config import TrainConfig
from punie_train.config_file import load_config
from punie_train.step import build_optimizer


def gradient_norms(log: Path, updates: int, accumulation: int) -> np.ndarray:
    """Each update's gradient norm: its report window's mean (the first window's before it)."""
    points = []
    for line in log.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event.get("event") == "train" and "grad_norm" in event:
            points.append((event["iteration"] // accumulation, event["grad_norm"]))
    if not points:
        raise SystemExit(f"{log}: no train event with grad_norm")
    ends = np.array([update for update, _ in points])
    norms = np.array([norm for _, norm in points])
    index = np.minimum(np.searchsorted(ends, np.arange(1, updates + 1)), len(norms) - 1)
    return norms[index]


def step_sizes(config: TrainConfig, norms: np.ndarray) -> np.ndarray:
    """|parameter change| per update for one parameter fed `norms` as its gradient."""
    optimizer = build_optimizer(config)
    parameters = {"p": mx.array(0.0)}
    optimizer.init(parameters)
    steps = []
    for norm in norms:
        before = parameters["p"].item()
        parameters = optimizer.apply_gradients({"p": mx.array(float(norm))}, parameters)
        steps.append(abs(parameters["p"].item() - before))
    return np.array(steps)


def main() -> None:
    """Print the step size at a few updates and summed over halves of the run, per config."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, required=True, help="a train_log.jsonl with grad_norm")
    parser.add_argument(
        "--config", type=Path, action="append", default=[], help="YAML knobs (repeatable)"
    )
    args = parser.parse_args()
    configs = [("default", TrainConfig())] + [
        (path.stem, load_config(path)) for path in args.config
    ]
    marks = (1, 10, 20, 32, 50, 100, 150, 200)
    print("| config | " + " | ".join(f"update {m}" for m in marks) + " | sum 1-100 | sum 101- |")
    print("|---" * (len(marks) + 3) + "|")
    for name, config in configs:
        norms = gradient_norms(args.log, config.updates, config.grad_accumulation_steps)
        steps = step_sizes(config, norms)
        half = len(steps) // 2
        cells = [f"{steps[m - 1]:.1e}" for m in marks if m <= len(steps)]
        print(
            f"| {name} | " + " | ".join(cells) + f" | {steps[:half].sum():.3f} | "
            f"{steps[half:].sum():.3f} |"
        )


if __name__ == "__main__":
    main()
