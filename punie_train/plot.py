"""report.png: the loss curves and the per-category strict accuracy, base vs trained."""

from __future__ import annotations

from pathlib import Path

from punie_train.report import RunReport, category_rows, score_value


def plot(report: RunReport, path: Path) -> Path:
    """report.png: loss curves (left) and per-category strict accuracy, base vs trained (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(13, 4.8), layout="constrained")
    train = [(p.iteration, p.train_loss) for p in report.losses if p.train_loss is not None]
    val = [(p.iteration, p.val_loss) for p in report.losses if p.val_loss is not None]
    if train:
        marker = "." if len(train) < 60 else None
        loss_ax.plot(
            *zip(*train, strict=True), label="train", linewidth=1, alpha=0.8, marker=marker
        )
    if val:
        loss_ax.plot(*zip(*val, strict=True), "o-", label="validation", markersize=3)
    best = report.training.best_iteration if report.training else None
    if best is not None:
        loss_ax.axvline(best, color="grey", linestyle="--", linewidth=1, label=f"best ({best})")
    if train or val:
        loss_ax.legend()
    else:
        loss_ax.text(0.5, 0.5, "no training log", ha="center", va="center")
    loss_ax.set(title="Loss", xlabel="iteration", ylabel="loss")

    rows = category_rows(report)
    names = [name for name, _, _ in rows]
    width = 0.4
    columns = {"base": [b for _, b, _ in rows], "trained": [t for _, _, t in rows]}
    for offset, (label, scores) in enumerate(columns.items()):
        values = [100 * (score_value(s, "strict") or 0.0) for s in scores]
        xs = [i + (offset - 0.5) * width for i in range(len(names))]
        bars = acc_ax.bar(xs, values, width, label=label)
        acc_ax.bar_label(bars, fmt="%.0f", fontsize=7)
    ticks = [f"{name} ({score_value(t or b, 'n') or 0:.0f})" for name, b, t in rows]
    acc_ax.set_xticks(range(len(names)), ticks, rotation=30, ha="right")
    acc_ax.set(title="Strict accuracy per category (queries)", ylabel="%", ylim=(0, 105))
    acc_ax.legend()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
