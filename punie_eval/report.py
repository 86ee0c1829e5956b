"""The run report: report.json, report.md, report.png, confusion.png and the console's table.

The report's data model is in ``report_data.py`` and ``train_summary.py`` (re-exported here);
the pictures are drawn by ``plot.py``, imported only when a report is written.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import yaml

from punie_eval.eval_results import RUNG_TITLES, RUNGS, EvalResult, Score
from punie_eval.report_data import (
    FirstToolRow,
    LossPoint,
    RunReport,
    category_rows,
    confusion_eval,
    first_tool_rows,
    read_loss_log,
    score_value,
    summarize_manifest,
)
from punie_eval.train_summary import TrainSummary
from punie_tools import atomic

__all__ = [
    "FirstToolRow",
    "LossPoint",
    "ReportFiles",
    "RunReport",
    "TrainSummary",
    "category_rows",
    "console_table",
    "first_tool_rows",
    "read_loss_log",
    "render_markdown",
    "score_value",
    "summarize_manifest",
    "write_report",
]

FAILURE_REPLY_CHARS = 800


def pct(value: float | None) -> str:
    """A rate as a percentage with one decimal."""
    return "—" if value is None or math.isnan(value) else f"{100 * value:.1f}%"


def secs(value: float | None) -> str:
    """Seconds with two decimals."""
    return "—" if value is None else f"{value:.2f} s"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def comparison_rows(report: RunReport) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the per-category base-vs-trained table (console and markdown)."""
    header = [
        "category",
        "n",
        "strict base",
        "strict trained",
        "keyword base",
        "keyword trained",
        "latency base",
        "latency trained",
        "p50",
        "p95",
    ]
    rows = []
    for name, base, trained in category_rows(report):
        main = trained or base
        rows.append(
            [
                name,
                str(main.n if main else 0),
                pct(score_value(base, "strict")),
                pct(score_value(trained, "strict")),
                pct(score_value(base, "keyword")),
                pct(score_value(trained, "keyword")),
                secs(score_value(base, "latency_mean")),
                secs(score_value(trained, "latency_mean")),
                secs(score_value(main, "latency_p50")),
                secs(score_value(main, "latency_p95")),
            ]
        )
    return header, rows


def _ladder_table(result: EvalResult) -> list[str]:
    header = [
        "category",
        "n",
        *(RUNG_TITLES[r] for r in (*RUNGS, "strict")),
        "first tool",
        "keyword",
        "keyword pass",
        "latency mean",
        "p50",
        "p95",
        "decode tok/s",
        "tokens/reply p50",
        "p95",
    ]
    scores = [*result.categories, result.overall]
    rows = [
        [
            s.name,
            str(s.n),
            *(pct(getattr(s, r)) for r in (*RUNGS, "strict")),
            pct(s.first_tool),
            pct(s.keyword),
            pct(s.keyword_pass),
            secs(s.latency_mean),
            secs(s.latency_p50),
            secs(s.latency_p95),
            f"{s.tokens_per_s:.1f}",
            f"{s.reply_tokens_p50:.0f}",
            f"{s.reply_tokens_p95:.0f}",
        ]
        for s in scores
    ]
    return _table(header, rows)


def _failures(result: EvalResult) -> list[str]:
    lines = []
    for q in result.failures():
        lines.append(f"### `{q.id}` ({q.category}): {q.ladder.verdict()}")
        lines.append("")
        lines.append(f"- query: {q.query}")
        lines.append(f"- expected: {', '.join(q.expected)}; called: {', '.join(q.called) or '—'}")
        if q.error:
            lines.append(f"- harness: {q.error}")
        for i, step in enumerate(q.steps, start=1):
            reply = step.reply.text.strip()
            if len(reply) > FAILURE_REPLY_CHARS:
                reply = reply[:FAILURE_REPLY_CHARS] + " …"
            problem = step.type_errors or step.error
            fence = "````" if "```" in reply else "```"  # a reply's own fence must not close ours
            lines += ["", f"reply {i}:", "", fence, reply, fence]
            if problem:
                lines += ["", f"problem: `{problem.strip().splitlines()[-1][:300]}`"]
        lines.append("")
    return lines


SEED_ACCURACY = 0.8
SEED_LATENCY_S = 5.0


def seed_bar(result: EvalResult) -> list[tuple[str, bool]]:
    """The Phase 33 seed's bar, checked on one evaluation: (criterion, met)."""
    multi = [q for q in result.queries if q.multi_step]
    silent = [s.name for s in result.categories if s.strict == 0]
    return [
        (f"strict accuracy {pct(result.overall.strict)} >= 80%",
         result.overall.strict >= SEED_ACCURACY),
        (f"keyword score {pct(result.overall.keyword)} >= 80%",
         result.overall.keyword >= SEED_ACCURACY),
        ("every category has a strict pass"
         + (f" (none in {', '.join(silent)})" if silent else ""), not silent),
        (f"multi-step workflows passed: {sum(q.ladder.strict for q in multi)} of {len(multi)}",
         any(q.ladder.strict for q in multi)),
        (f"mean latency {secs(result.overall.latency_mean)} < 5 s",
         result.overall.latency_mean < SEED_LATENCY_S),
    ]  # fmt: skip


def render_markdown(report: RunReport) -> str:
    """report.md: setup, training, the per-category tables and the trained model's failures."""
    lines = [f"# punie_train report ({report.created})", ""]
    lines += [f"- model: {report.model}", f"- run dir: `{report.run_dir}`"]
    if report.blas:
        gflops = report.blas.get("gflops")
        speed = f", {gflops:.1f} GFLOP/s" if isinstance(gflops, int | float) else ""
        lines.append(f"- BLAS: {report.blas.get('note', '?')}{speed}")
    if t := report.training:
        speed = t.trained_tokens_per_s
        lines += [
            f"- training: {t.iterations} iterations in {t.wall_time_s / 60:.1f} min"
            + (f" (resumed at {t.resumed_from})" if t.resumed_from else "")
            + (f", {speed:.1f} trained tokens/s" if speed else ""),
            f"- best iteration: {t.best_iteration} (val loss {_loss(t.best_val_loss)}); "
            f"adapter `{t.best_adapter_path}`",
            f"- final losses: train {_loss(t.final_train_loss)}, val {_loss(t.final_val_loss)}",
        ]
    answered = [
        (label, e.engine) for label, e in (("base", report.base), ("trained", report.trained)) if e
    ]
    if answered:
        lines.append(
            "- answered by: " + "; ".join(f"{label} {engine}" for label, engine in answered)
        )
    lines.append("")
    header, rows = comparison_rows(report)
    lines += ["## Base vs trained", "", *_table(header, rows), ""]
    lines.append(
        "Strict = the call parsed, type-checked against the tool stubs, ran in the sandbox on a "
        "fresh fixture, called the expected tools and passed the required arguments. Keyword = "
        "the seed's Phase 33 score (pass at 0.5). Latency = mean model generation time per "
        "query; p50/p95 of the trained model (of the base model when only it ran)."
    )
    lines.append("")
    lines += _first_tool_section(report)
    if report.trained is not None:
        lines += ["## The seed's bar (trained model)", ""]
        lines += [f"- [{'x' if met else ' '}] {text}" for text, met in seed_bar(report.trained)]
        lines.append("")
    for result in report.evals():
        lines += [f"## Ladder: {result.label} ({result.model})", "", *_ladder_table(result), ""]
        lines.append(
            f"{result.overall.n} queries in {result.seconds / 60:.1f} min; reply budget "
            f"{result.max_tokens} tokens; system prompt prefilled once in "
            f"{result.system_prefill_s:.1f} s and reused from the KV cache."
        )
        lines.append("")
    if report.config:
        text = yaml.safe_dump(json.loads(json.dumps(report.config, default=str)), sort_keys=False)
        lines += ["## Config", "", "```yaml", text.rstrip(), "```", ""]
    if report.data:
        lines += ["## Data", ""]
        lines += [f"- {k}: {_inline(v)}" for k, v in report.data.items()]
        lines.append("")
    if report.trained is not None:
        failed = report.trained.failures()
        lines += [f"## Failures of the trained model ({len(failed)})", ""]
        lines += _failures(report.trained)
    return "\n".join(lines).rstrip() + "\n"


def _first_tool_section(report: RunReport) -> list[str]:
    rows = first_tool_rows(report)
    if report.baseline is None and all(r.base is None and r.trained is None for r in rows):
        return []
    header = ["category", "n", "base", "trained", "classifier"]
    table = [[r.name, str(r.n), pct(r.base), pct(r.trained), pct(r.classifier)] for r in rows]
    lines = ["## First tool: models vs the bag-of-words classifier", "", *_table(header, table), ""]
    text = (
        "First tool = the first tool the code calls is one of the query's expected tools. "
        "Classifier = TF-IDF (word 1-2-grams, character 3-5-grams) logistic regression from the "
        "request to the first tool, fitted on the run's own train split"
    )
    if b := report.baseline:
        text += f" ({b.train_examples} examples, {len(b.tools)} first tools, `{b.train_path}`)"
    lines += [text + ": what word association alone gets right.", ""]
    if (result := confusion_eval(report)) is not None:
        lines += [
            f"Chosen vs expected first tool of the {result.label} model: "
            "[confusion.png](confusion.png)",
            "",
            "![confusion](confusion.png)",
            "",
        ]
    return lines


def _loss(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _inline(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def console_table(report: RunReport) -> Any:
    """The per-category table for the console (the run's last word): base -> trained."""
    from rich.table import Table

    table = Table(title="Per category: base -> trained (latency: the trained model)")
    header = ["category", "n", "strict", "first tool", "classifier", "keyword", "latency"]
    header += ["p50", "p95"]
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 else "right")
    classifier = {row.name: row.classifier for row in first_tool_rows(report)}
    for name, base, trained in category_rows(report):
        main = trained or base
        clf = classifier.get(name)
        table.add_row(
            name,
            str(main.n if main else 0),
            _arrow(base, trained, "strict"),
            _arrow(base, trained, "first_tool"),
            "—" if clf is None else f"{100 * clf:.0f}%",
            _arrow(base, trained, "keyword"),
            *(
                f"{score_value(main, f) or 0.0:.1f} s"
                for f in ("latency_mean", "latency_p50", "latency_p95")
            ),
            style="bold" if name == "overall" else None,
        )
    return table


def _arrow(base: Score | None, trained: Score | None, field: str) -> str:
    values = [
        f"{100 * getattr(s, field):.0f}%"
        for s in (base, trained)
        if s is not None and getattr(s, field) is not None
    ]
    return " -> ".join(values)


@attrs.frozen
class ReportFiles:
    """Where the report was written."""

    json: Path
    markdown: Path
    png: Path
    confusion: Path | None = None


def write_report(report: RunReport, directory: Path) -> ReportFiles:
    """Write report.json, report.md, report.png and (with an evaluation) confusion.png."""
    from punie_eval.plot import plot, plot_confusion  # matplotlib loads only when writing

    directory.mkdir(parents=True, exist_ok=True)
    result = confusion_eval(report)
    files = ReportFiles(
        directory / "report.json",
        directory / "report.md",
        directory / "report.png",
        directory / "confusion.png" if result is not None else None,
    )
    # Each file is written aside and renamed: a crash leaves the old report or the new one.
    atomic.write_text(files.json, json.dumps(report.to_dict(), indent=2, default=str) + "\n")
    atomic.write_text(files.markdown, render_markdown(report))
    atomic.write_with(files.png, lambda path: plot(report, path))
    if result is not None and files.confusion is not None:
        confusion = files.confusion
        atomic.write_with(confusion, lambda path: plot_confusion(result, path))
    return files
