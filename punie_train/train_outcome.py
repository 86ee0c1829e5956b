"""How training ends early: the interruption of a run.

A finished run returns `punie_eval.train_summary.TrainSummary`, which the report keeps.
"""

from __future__ import annotations

from pathlib import Path


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped by Ctrl-C (or a callback); a checkpoint was saved first."""

    def __init__(self, iteration: int, checkpoint: Path | None) -> None:
        super().__init__(f"interrupted at iteration {iteration}; checkpoint {checkpoint}")
        self.iteration = iteration
        self.checkpoint = checkpoint
