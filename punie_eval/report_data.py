"""The run report as data: ``RunReport`` and the pieces it is built from.

Rendering lives in ``report.py`` (JSON, markdown, console) and ``plot.py`` (the pictures); both
read this module, neither imports the other at import time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from punie_eval.baseline import BaselineResult
from punie_eval.eval_results import EvalResult, Score, structure
from punie_eval.first_call import NO_TOOL
from punie_eval.train_summary import TrainSummary


@attrs.frozen
class LossPoint:
    """Training and/or validation loss at one iteration, as the trainer logged it."""

    iteration: int
    train_loss: float | None = None
    val_loss: float | None = None


@attrs.frozen
class RunReport:
    """Everything a run learned, in one value that becomes report.json/md/png."""

    created: str
    model: str
    run_dir: str
    config: Mapping[str, Any] = attrs.field(factory=dict)
    data: Mapping[str, Any] = attrs.field(factory=dict)
    blas: Mapping[str, Any] = attrs.field(factory=dict)
    training: TrainSummary | None = None
    losses: tuple[LossPoint, ...] = ()
    base: EvalResult | None = None
    trained: EvalResult | None = None
    baseline: BaselineResult | None = None

    def evals(self) -> list[EvalResult]:
        """The evaluations present, base first."""
        return [e for e in (self.base, self.trained) if e is not None]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``first_tool`` puts the classifier beside the models (derived)."""
        data = attrs.asdict(
            self, recurse=True, filter=lambda a, _: a.name not in ("base", "trained", "baseline")
        )
        data["training"] = self.training.to_dict() if self.training else None  # in its place
        data["base"] = self.base.to_dict() if self.base else None
        data["trained"] = self.trained.to_dict() if self.trained else None
        data["baseline"] = self.baseline.to_dict() if self.baseline else None
        data["first_tool"] = [attrs.asdict(row) for row in first_tool_rows(self)]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunReport:
        """Rebuild a report from ``to_dict()`` output (older reports' too)."""
        training = data.get("training")
        report = structure(cls, {**data, "training": None})
        if training is None:
            return report
        summary = TrainSummary.from_dict(training, run_dir=Path(report.run_dir))
        return attrs.evolve(report, training=summary)


_ITERATION_KEYS = ("iteration", "iter", "step")
_TRAIN_KEYS = ("train_loss", "loss")
_VAL_KEYS = ("val_loss", "valid_loss", "validation_loss")


def _first(record: Mapping[str, Any], keys: Sequence[str]) -> Any:
    return next((record[k] for k in keys if record.get(k) is not None), None)


def read_loss_log(path: Path) -> tuple[LossPoint, ...]:
    """Loss points from the trainer's JSONL log; lines without an iteration are skipped."""
    if not path.is_file():
        return ()
    points = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by an interrupted run
        if not isinstance(record, dict):
            continue
        iteration = _first(record, _ITERATION_KEYS)
        train, val = _first(record, _TRAIN_KEYS), _first(record, _VAL_KEYS)
        if iteration is None or (train is None and val is None):
            continue
        points.append(
            LossPoint(
                int(iteration),
                float(train) if train is not None else None,
                float(val) if val is not None else None,
            )
        )
    return tuple(points)


def summarize_manifest(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The lines of a dataset manifest (punie_datagen's manifest.json) worth a report."""
    counts = manifest.get("counts") or {}
    out: dict[str, Any] = {
        "name": manifest.get("name"),
        "train": counts.get("train"),
        "valid": counts.get("valid"),
        "rejected": counts.get("rejected"),
    }
    for key, title in (("by_category", "train per category"), ("by_source", "train per source")):
        table = counts.get(key)
        if isinstance(table, Mapping):
            out[title] = {
                k: row.get("train", 0) for k, row in table.items() if isinstance(row, Mapping)
            }
    tokens = (manifest.get("tokens") or {}).get("train")
    if isinstance(tokens, Mapping) and "mean" in tokens:
        out["train tokens"] = {
            k: tokens[k] for k in ("mean", "median", "p95", "max") if k in tokens
        }
    if sha := manifest.get("system_prompt_sha256"):
        out["system prompt sha256"] = str(sha)[:16]
    if plugins := manifest.get("plugins"):
        out["plugins"] = ", ".join(map(str, plugins))
    return {k: v for k, v in out.items() if v is not None}


def category_rows(report: RunReport) -> list[tuple[str, Score | None, Score | None]]:
    """(category, base score, trained score) for every category, then ``overall``."""
    names = list(dict.fromkeys(s.name for e in report.evals() for s in e.categories))
    rows: list[tuple[str, Score | None, Score | None]] = [
        (
            name,
            report.base.category(name) if report.base else None,
            report.trained.category(name) if report.trained else None,
        )
        for name in names
    ]
    rows.append(
        (
            "overall",
            report.base.overall if report.base else None,
            report.trained.overall if report.trained else None,
        )
    )
    return rows


def score_value(score: Score | None, field: str) -> float | None:
    """One field of a score, None when that model was not evaluated."""
    return None if score is None else getattr(score, field)


@attrs.frozen
class FirstToolRow:
    """First-tool accuracy of one category (or ``overall``): base, trained and the classifier."""

    name: str
    n: int
    base: float | None
    trained: float | None
    classifier: float | None


def first_tool_rows(report: RunReport) -> list[FirstToolRow]:
    """The first-tool comparison for every category, then ``overall``; None where not measured."""
    rows = []
    names = [name for name, _, _ in category_rows(report)]
    if report.baseline is not None:
        names = list(dict.fromkeys([*names[:-1], *(a.name for a in report.baseline.categories)]))
        names.append("overall")
    for name in names:
        base, trained = (
            (e.overall if name == "overall" else e.category(name)) if e else None
            for e in (report.base, report.trained)
        )
        clf = None
        if report.baseline is not None:
            clf = report.baseline.overall if name == "overall" else report.baseline.category(name)
        main = trained or base
        n = main.n if main else clf.n if clf else 0
        rows.append(
            FirstToolRow(
                name,
                n,
                score_value(base, "first_tool"),
                score_value(trained, "first_tool"),
                clf.accuracy if clf else None,
            )
        )
    return rows


def confusion_eval(report: RunReport) -> EvalResult | None:
    """The evaluation the confusion picture shows: the trained model's, else the base model's."""
    return report.trained or report.base


def confusion_counts(
    result: EvalResult,
) -> tuple[list[str], list[str], dict[tuple[str, str], int]]:
    """Expected first tools (rows), chosen first tools (columns) and the count of each pair.

    A query whose chosen first tool is one of its expected tools counts on the diagonal; any
    other query counts under its first expected tool. Columns are the rows' tools in the same
    order, then the other chosen tools; ``NO_TOOL`` (a query that called nothing) sorts last.
    """
    counts: dict[tuple[str, str], int] = {}
    for q in result.queries:
        chosen = q.first_tool
        row = chosen if q.first_tool_right else (q.expected[0] if q.expected else NO_TOOL)
        counts[row, chosen] = counts.get((row, chosen), 0) + 1
    rows = sorted({r for r, _ in counts}, key=lambda tool: (tool == NO_TOOL, tool))
    others = sorted({c for _, c in counts} - set(rows), key=lambda tool: (tool == NO_TOOL, tool))
    columns = [*rows, *others]  # the diagonal (right first tool) runs from the top left
    return rows, columns, counts
