"""The report's pictures: report.png (loss, strict and first-tool accuracy) and confusion.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from punie_eval.eval_results import EvalResult
from punie_eval.report_data import (
    RunReport,
    category_rows,
    confusion_counts,
    first_tool_rows,
    score_value,
)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot(report: RunReport, path: Path) -> Path:
    """report.png: loss, strict accuracy and first-tool accuracy per category.

    Strict accuracy compares base and trained; first-tool accuracy adds the bag-of-words
    classifier beside them.
    """
    plt = _pyplot()
    fig, (loss_ax, acc_ax, tool_ax) = plt.subplots(
        1, 3, figsize=(19, 4.8), layout="constrained", width_ratios=(1, 1.1, 1.3)
    )
    _loss_panel(loss_ax, report)

    rows = category_rows(report)
    ticks = [f"{name} ({score_value(t or b, 'n') or 0:.0f})" for name, b, t in rows]
    columns = {"base": [b for _, b, _ in rows], "trained": [t for _, _, t in rows]}
    strict = {
        label: [score_value(s, "strict") for s in scores] for label, scores in columns.items()
    }
    _bars(acc_ax, ticks, strict)
    acc_ax.set(title="Strict accuracy per category (queries)", ylabel="%")

    tool_rows = first_tool_rows(report)
    first = {
        "base": [r.base for r in tool_rows],
        "trained": [r.trained for r in tool_rows],
        "classifier": [r.classifier for r in tool_rows],
    }
    _bars(tool_ax, [f"{r.name} ({r.n})" for r in tool_rows], first)
    tool_ax.set(title="First tool right per category (queries)", ylabel="%")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _loss_panel(ax: Any, report: RunReport) -> None:
    train = [(p.iteration, p.train_loss) for p in report.losses if p.train_loss is not None]
    val = [(p.iteration, p.val_loss) for p in report.losses if p.val_loss is not None]
    if train:
        marker = "." if len(train) < 60 else None
        ax.plot(*zip(*train, strict=True), label="train", linewidth=1, alpha=0.8, marker=marker)
    if val:
        ax.plot(*zip(*val, strict=True), "o-", label="validation", markersize=3)
    best = report.training.best_iteration if report.training else None
    if best is not None:
        ax.axvline(best, color="grey", linestyle="--", linewidth=1, label=f"best ({best})")
    if train or val:
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no training log", ha="center", va="center")
    ax.set(title="Loss", xlabel="iteration", ylabel="loss")


def _bars(ax: Any, ticks: list[str], series: dict[str, list[float | None]]) -> None:
    """Grouped bars (percent), one group per tick; a series measured nowhere is left out."""
    present = {k: v for k, v in series.items() if any(x is not None for x in v)}
    width = 0.8 / max(len(present), 1)
    for offset, (label, values) in enumerate(present.items()):
        heights = [100 * (v or 0.0) for v in values]
        xs = [i + (offset - (len(present) - 1) / 2) * width for i in range(len(ticks))]
        bars = ax.bar(xs, heights, width, label=label)
        ax.bar_label(bars, fmt="%.0f", fontsize=7 if len(present) < 3 else 6)
    ax.set_xticks(range(len(ticks)), ticks, rotation=30, ha="right")
    ax.set_ylim(0, 118)  # room above the 100% bars for the legend
    ax.set_yticks(range(0, 101, 20))
    if present:
        ax.legend(loc="upper center", ncols=len(present), fontsize=8, frameon=False)


def plot_confusion(result: EvalResult, path: Path) -> Path:
    """confusion.png: expected first tool (rows) vs the first tool the model chose (columns)."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    rows, columns, counts = confusion_counts(result)
    grid = [[counts.get((r, c), 0) for c in columns] for r in rows]
    fig, ax = plt.subplots(
        figsize=(max(6.0, 0.42 * len(columns) + 3), max(4.5, 0.36 * len(rows) + 2.5)),
        layout="constrained",
    )
    image = ax.imshow(grid, cmap="Blues", aspect="auto", vmin=0)
    peak = max((max(row) for row in grid), default=0)
    for i, row in enumerate(grid):
        for j, count in enumerate(row):
            if count:
                colour = "white" if count > peak / 2 else "black"
                ax.text(j, i, str(count), ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(range(len(columns)), columns, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    right = sum(q.first_tool_right for q in result.queries)
    ax.set(
        xlabel="chosen first tool",
        ylabel="expected first tool",
        title=f"First tool, {result.label} model ({result.model}): "
        f"{right} of {len(result.queries)} right (diagonal)",
    )
    bar = fig.colorbar(image, ax=ax, shrink=0.6, label="queries")
    bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
