"""Live training progress (rich) and the run's JSONL event log.

Every report is one JSON object per line in `<run>/train_log.jsonl`:
`{"event": "train", "iteration", "update", "train_loss", "learning_rate", "grad_norm",
"grad_norm_max", "tokens_per_s", "trained_tokens_per_s", "elapsed_s"}` (the gradient norms
are the updates' before any clipping: mean and largest of the window),
`{"event": "val", "iteration", "val_loss", "best", "val_s"}` and
`{"event": "save", "iteration", "path"}`. A resumed run first drops the lines past its
checkpoint, so the log always describes one uninterrupted run. Each line is appended with one
fsynced write and rewrites are atomic, so a crash can tear at most the last line, which
`EventLog.read` skips.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from punie_eval.train_summary import LOG_NAME
from punie_tools import atomic

__all__ = ["LOG_NAME", "EventLog", "TrainProgress"]


class EventLog:
    """Append-only JSONL log of a run's reports."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, event: dict[str, Any]) -> None:
        """Append one event as a line with a single write, flushed to disk."""
        atomic.append_line(self.path, json.dumps(event))

    def read(self) -> list[dict[str, Any]]:
        """All events so far (a torn last line from a crash is skipped)."""
        if not self.path.exists():
            return []
        events = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return events

    def truncate_after(self, iteration: int) -> None:
        """Drop events past `iteration` (work lost when a run stopped after its checkpoint)."""
        kept = [e for e in self.read() if int(e.get("iteration", 0)) <= iteration]
        atomic.write_text(self.path, "".join(json.dumps(e) + "\n" for e in kept))


class TrainProgress:
    """A rich progress bar over iterations with the latest loss, speed and ETA."""

    def __init__(self, console: Console, total: int, start: int) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("[bold]train"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[speed]} tok/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task: TaskID = self.progress.add_task(
            "train", total=total, completed=start, loss="-", speed="-"
        )

    def __enter__(self) -> TrainProgress:
        self.progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.progress.stop()

    def advance(self, iteration: int, loss: float, tokens_per_s: float) -> None:
        """Move the bar to `iteration` and show the update's loss and speed."""
        self.progress.update(
            self.task, completed=iteration, loss=f"{loss:.3f}", speed=f"{tokens_per_s:.0f}"
        )

    def note(self, text: str) -> None:
        """Print a line above the bar (validation results, saves)."""
        self.progress.console.print(text)
