"""How training ends: the summary of a finished run, or the interruption of one."""

from __future__ import annotations

from pathlib import Path

import attrs


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped by Ctrl-C (or a callback); a checkpoint was saved first."""

    def __init__(self, iteration: int, checkpoint: Path | None) -> None:
        super().__init__(f"interrupted at iteration {iteration}; checkpoint {checkpoint}")
        self.iteration = iteration
        self.checkpoint = checkpoint


@attrs.frozen
class TrainSummary:
    """What a finished run produced and how fast it went."""

    iterations: int
    updates: int
    best_iteration: int | None
    best_val_loss: float | None
    best_probe_accuracy: float | None
    final_train_loss: float | None
    final_val_loss: float | None
    adapter_path: Path
    best_adapter_path: Path
    log_path: Path
    wall_time_s: float
    tokens_per_s: float
    trained_tokens_per_s: float
    resumed_from: int | None
    fast_paths: str
    ranks: int = 1
    comm_time_s: float = 0.0
