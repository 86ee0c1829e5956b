"""What a dataset build shows on a console: stages, a progress bar, warnings, the summary table.

Used by ``python -m punie_datagen`` and by ``python -m punie_train`` when it builds the default
dataset first.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from punie_datagen.example import SOURCES, Example
from punie_datagen.execute import Outcome
from punie_datagen.manifest import Manifest
from punie_datagen.pipeline import Reporter


class ConsoleReporter(Reporter):
    """Shows stages, warnings and a progress bar while examples execute."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.failed = 0

    def stage(self, name: str) -> None:
        self.close()
        self.console.print(f"[bold]{name}[/bold]")

    def executing(self, total: int) -> None:
        self.console.print(f"[bold]running {total} generated examples[/bold]")
        if total == 0:
            return
        self.progress = Progress(
            TextColumn("executing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} rejected"),
            TimeElapsedColumn(),
            console=self.console,
        )
        self.progress.start()
        self.task = self.progress.add_task("execute", total=total, failed=0)

    def executed(self, outcome: Outcome) -> None:
        if not isinstance(outcome, Example):
            self.failed += 1
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, advance=1, failed=self.failed)

    def warn(self, message: str) -> None:
        self.console.print(f"[yellow]warning:[/yellow] {message}", highlight=False)

    def close(self) -> None:
        """Stop the progress bar if one is showing."""
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def summary_table(manifest: Manifest) -> Table:
    """Per category: foundation, generated, extra, rejected, train and valid counts."""
    table = Table(title=f"dataset {manifest.name}")
    columns = [*SOURCES, "rejected", "train", "valid"]
    table.add_column("category")
    for c in columns:
        table.add_column(c, justify="right")
    rows = manifest.counts["by_category"]
    for category, row in rows.items():
        table.add_row(category, *(str(row[c]) for c in columns))
    totals = [str(sum(row[c] for row in rows.values())) for c in columns]
    table.add_row("[bold]total[/bold]", *totals)
    return table
