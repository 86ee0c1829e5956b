"""The run report: report.json, report.md, report.png and the console's per-category table."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import yaml

from punie_train.eval_results import RUNG_TITLES, RUNGS, EvalResult, Score, structure

FAILURE_REPLY_CHARS = 800


@attrs.frozen
class LossPoint:
    """Training and/or validation loss at one iteration, as the trainer logged it."""

    iteration: int
    train_loss: float | None = None
    val_loss: float | None = None


@attrs.frozen
class TrainingInfo:
    """What training did: time, iterations, the best checkpoint and the final losses."""

    wall_seconds: float
    iterations: int
    best_iteration: int | None = None
    best_val_loss: float | None = None
    final_train_loss: float | None = None
    final_val_loss: float | None = None
    adapter: str | None = None
    resumed_from: int | None = None
    tokens_per_s: float | None = None


@attrs.frozen
class RunReport:
    """Everything a run learned, in one value that becomes report.json/md/png."""

    created: str
    model: str
    run_dir: str
    config: Mapping[str, Any] = attrs.field(factory=dict)
    data: Mapping[str, Any] = attrs.field(factory=dict)
    blas: Mapping[str, Any] = attrs.field(factory=dict)
    training: TrainingInfo | None = None
    losses: tuple[LossPoint, ...] = ()
    base: EvalResult | None = None
    trained: EvalResult | None = None

    def evals(self) -> list[EvalResult]:
        """The evaluations present, base first."""
        return [e for e in (self.base, self.trained) if e is not None]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = attrs.asdict(
            self, recurse=True, filter=lambda a, _: a.name not in ("base", "trained")
        )
        data["base"] = self.base.to_dict() if self.base else None
        data["trained"] = self.trained.to_dict() if self.trained else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunReport:
        """Rebuild a report from ``to_dict()`` output."""
        return structure(cls, data)


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


def pct(value: float | None) -> str:
    """A rate as a percentage with one decimal."""
    return "—" if value is None or math.isnan(value) else f"{100 * value:.1f}%"


def secs(value: float | None) -> str:
    """Seconds with two decimals."""
    return "—" if value is None else f"{value:.2f} s"


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
        "keyword",
        "keyword pass",
        "latency mean",
        "p50",
        "p95",
        "decode tok/s",
    ]
    scores = [*result.categories, result.overall]
    rows = [
        [
            s.name,
            str(s.n),
            *(pct(getattr(s, r)) for r in (*RUNGS, "strict")),
            pct(s.keyword),
            pct(s.keyword_pass),
            secs(s.latency_mean),
            secs(s.latency_p50),
            secs(s.latency_p95),
            f"{s.tokens_per_s:.1f}",
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
            reply = step.reply.strip()
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
        lines += [
            f"- training: {t.iterations} iterations in {t.wall_seconds / 60:.1f} min"
            + (f" (resumed at {t.resumed_from})" if t.resumed_from else "")
            + (f", {t.tokens_per_s:.1f} trained tokens/s" if t.tokens_per_s else ""),
            f"- best iteration: {t.best_iteration} (val loss {_loss(t.best_val_loss)}); "
            f"adapter `{t.adapter}`",
            f"- final losses: train {_loss(t.final_train_loss)}, val {_loss(t.final_val_loss)}",
        ]
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
    header = ["category", "n", "strict", "keyword", "latency", "p50", "p95"]
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 else "right")
    for name, base, trained in category_rows(report):
        main = trained or base
        table.add_row(
            name,
            str(main.n if main else 0),
            _arrow(base, trained, "strict"),
            _arrow(base, trained, "keyword"),
            *(
                f"{score_value(main, f) or 0.0:.1f} s"
                for f in ("latency_mean", "latency_p50", "latency_p95")
            ),
            style="bold" if name == "overall" else None,
        )
    return table


def _arrow(base: Score | None, trained: Score | None, field: str) -> str:
    values = [f"{100 * getattr(s, field):.0f}%" for s in (base, trained) if s is not None]
    return " -> ".join(values)


@attrs.frozen
class ReportFiles:
    """Where the report was written."""

    json: Path
    markdown: Path
    png: Path


def write_report(report: RunReport, directory: Path) -> ReportFiles:
    """Write report.json, report.md and report.png into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(
        directory / "report.json", directory / "report.md", directory / "report.png"
    )
    files.json.write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n")
    files.markdown.write_text(render_markdown(report), encoding="utf-8")
    from punie_train.plot import plot  # matplotlib loads only when a report is written

    plot(report, files.png)
    return files
