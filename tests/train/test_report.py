"""Tests of the run report: JSON round trip, markdown tables and failures, PNG, console table."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
from rich.console import Console

from punie_eval.baseline import Accuracy, BaselineResult, Prediction
from punie_eval.eval_results import EvalResult, Ladder, QueryResult, Step
from punie_eval.first_call import NO_TOOL
from punie_eval.report import (
    LossPoint,
    RunReport,
    TrainSummary,
    console_table,
    read_loss_log,
    render_markdown,
    summarize_manifest,
    write_report,
)
from punie_eval.report_data import confusion_counts
from punie_runtime.reply import Reply

ALL = Ladder(True, True, True, True, True)
NONE = Ladder()


def query(
    qid: str,
    category: str,
    ladder: Ladder,
    reply: str,
    seconds: float,
    called: tuple[str, ...] = (),
) -> QueryResult:
    """A query result with one step."""
    return QueryResult(
        id=qid,
        category=category,
        query=f"question {qid}",
        multi_step=False,
        steps=(Step(Reply(reply, seconds=seconds, generated_tokens=10)),),
        ladder=ladder,
        keyword_score=1.0 if ladder.strict else 0.5,
        called=called,
        expected=("read_text",),
    )


@pytest.fixture(name="report")
def fixture_report() -> RunReport:
    """A report with a base and a trained evaluation over two categories."""
    base = EvalResult.build(
        "base",
        "toy",
        None,
        "abc",
        [
            query("a-1", "alpha", NONE, "I think read_text would do.", 2.0),
            query("b-1", "beta", NONE, "No idea.", 4.0),
        ],
    )
    trained = EvalResult.build(
        "trained",
        "toy",
        "adapters/best",
        "abc",
        [
            query("a-1", "alpha", ALL, "<tool_call>...</tool_call>", 1.0, ("read_text",)),
            query(
                "b-1",
                "beta",
                Ladder(parsed=True),
                "<tool_call>broken reply</tool_call>",
                3.0,
                ("git_log", "read_text"),
            ),
        ],
    )
    return RunReport(
        created="2026-01-01T00:00:00",
        model="toy",
        run_dir="runs/x",
        config={"iters": 4, "learning_rate": 1e-4},
        data={"train": 10, "valid": 2},
        blas={"note": "OpenBLAS (pthread)", "gflops": 40.0},
        training=SUMMARY,
        losses=(LossPoint(1, 2.5), LossPoint(2, 2.0, 1.5), LossPoint(4, 1.8, 1.7)),
        base=base,
        trained=trained,
        baseline=BASELINE,
    )


SUMMARY = TrainSummary(
    wall_time_s=60.0,
    iterations=4,
    best_iteration=2,
    best_val_loss=1.5,
    final_train_loss=1.8,
    final_val_loss=1.7,
    best_adapter_path=Path("runs/x/adapters-best"),
    resumed_from=None,
    trained_tokens_per_s=25.0,
    adapter_path=Path("runs/x/adapters"),
    log_path=Path("runs/x/train_log.jsonl"),
    updates=2,
    best_probe_accuracy=0.5,
    tokens_per_s=40.0,
    fast_paths="fused attention",
)

BASELINE = BaselineResult(
    train_examples=50,
    tools=("git_log", "read_text"),
    predictions=(
        Prediction("a-1", "alpha", "question a-1", ("read_text",), "git_log", False),
        Prediction("b-1", "beta", "question b-1", ("read_text",), "read_text", True),
    ),
    overall=Accuracy("overall", 2, 1, 0.5),
    categories=(Accuracy("alpha", 1, 0, 0.0), Accuracy("beta", 1, 1, 1.0)),
    train_path="data/x/train.jsonl",
)


def test_report_round_trips_through_json(report):
    """report.json rebuilds the same report."""
    data = json.loads(json.dumps(report.to_dict()))
    assert RunReport.from_dict(data) == report


def test_report_json_keeps_the_training_keys(report):
    """report.json's training block keeps its keys first, in order, with their old meanings."""
    training = json.loads(json.dumps(report.to_dict()))["training"]
    assert list(training)[:9] == [
        "wall_seconds",
        "iterations",
        "best_iteration",
        "best_val_loss",
        "final_train_loss",
        "final_val_loss",
        "adapter",
        "resumed_from",
        "tokens_per_s",
    ]
    assert training["adapter"] == "runs/x/adapters-best"
    assert (training["tokens_per_s"], training["all_tokens_per_s"]) == (25.0, 40.0)


def test_a_report_written_before_the_whole_summary_loads(report):
    """An older report.json (nine training keys) loads; the paths come back as the trainer's."""
    data = json.loads(json.dumps(report.to_dict()))
    data["training"] = {
        "wall_seconds": 4979.7,
        "iterations": 800,
        "best_iteration": 800,
        "best_val_loss": 0.389,
        "final_train_loss": 0.395,
        "final_val_loss": 0.389,
        "adapter": "runs/phase33/adapters-best",
        "resumed_from": None,
        "tokens_per_s": 29.0,
    }
    training = RunReport.from_dict(data).training
    assert training == TrainSummary(
        wall_time_s=4979.7,
        iterations=800,
        best_iteration=800,
        best_val_loss=0.389,
        final_train_loss=0.395,
        final_val_loss=0.389,
        best_adapter_path=Path("runs/phase33/adapters-best"),
        resumed_from=None,
        trained_tokens_per_s=29.0,
        adapter_path=Path("runs/phase33/adapters"),
        log_path=Path("runs/x/train_log.jsonl"),
    )


def test_markdown_has_the_training_lines(report):
    """report.md states the iterations, time, trained-token speed, best adapter and losses."""
    text = render_markdown(report)
    assert "- training: 4 iterations in 1.0 min, 25.0 trained tokens/s" in text
    assert "- best iteration: 2 (val loss 1.500); adapter `runs/x/adapters-best`" in text
    assert "- final losses: train 1.800, val 1.700" in text


def test_markdown_says_which_engine_answered(report):
    """Each evaluation's engine is named (reports from before engines say mlx)."""
    md = render_markdown(report)
    assert "- answered by: base mlx (float32); trained mlx (float32)" in md


def test_markdown_has_the_comparison_table(report):
    """report.md has a row per category and overall with base and trained strict rates."""
    text = render_markdown(report)
    assert "| alpha | 1 | 0.0% | 100.0% |" in text
    assert "| overall | 2 | 0.0% | 50.0% |" in text
    assert "best iteration: 2 (val loss 1.500)" in text


def test_markdown_checks_the_seed_bar(report):
    """report.md ticks the seed's criteria the trained model meets and leaves the rest open."""
    text = render_markdown(report)
    assert "- [ ] strict accuracy 50.0% >= 80%" in text
    assert "- [ ] every category has a strict pass (none in beta)" in text
    assert "- [x] mean latency 2.00 s < 5 s" in text


def test_markdown_lists_failures_with_the_reply(report):
    """Each trained failure shows the failed rung and the model's reply."""
    text = render_markdown(report)
    assert "### `b-1` (beta): type check failed" in text
    assert "broken reply" in text
    assert "`a-1`" not in text


def test_write_report_writes_json_markdown_and_png(report, tmp_path):
    """The three report files are written; the PNG is a real PNG."""
    files = write_report(report, tmp_path / "run")
    assert json.loads(files.json.read_text())["trained"]["overall"]["strict"] == 0.5
    assert files.markdown.read_text().startswith("# punie_train report")
    assert files.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_without_training_or_base_still_renders(report, tmp_path):
    """An evaluation-only report (no training, no base) writes all three files."""
    alone = RunReport(created="now", model="toy", run_dir="r", trained=report.trained)
    files = write_report(alone, tmp_path)
    assert "| overall | 2 | — | 50.0% |" in files.markdown.read_text()


def test_console_table_ends_with_overall(report):
    """The console table has one row per category, then overall."""
    console = Console(width=160, record=True)
    console.print(console_table(report))
    lines = [line for line in console.export_text().splitlines() if "│" in line]
    assert "overall" in lines[-1]
    assert "alpha" in lines[-3]
    assert "0% -> 100%" in lines[-3]


def test_read_loss_log_skips_partial_and_unrelated_lines(tmp_path):
    """Train and validation points are read; a cut-off last line is ignored."""
    log = tmp_path / "log.jsonl"
    log.write_text(
        '{"iteration": 1, "train_loss": 2.5}\n'
        '{"iteration": 2, "val_loss": 2.0}\n'
        '{"event": "checkpoint"}\n'
        '{"iteration": 3, "train_lo'
    )
    assert read_loss_log(log) == (LossPoint(1, 2.5), LossPoint(2, None, 2.0))


def test_read_loss_log_of_a_missing_file_is_empty(tmp_path):
    """No log (an evaluation-only run) gives no points."""
    assert read_loss_log(tmp_path / "none.jsonl") == ()


def test_summarize_manifest_keeps_counts_and_drops_detail():
    """Split sizes and per-category train counts stay; rejection details do not."""
    manifest = {
        "name": "phase33",
        "counts": {
            "train": 90,
            "valid": 10,
            "rejected": 5,
            "by_category": {"git": {"train": 30, "valid": 3}, "chat": {"train": 60, "valid": 7}},
        },
        "rejected": [{"why": "x"}] * 5,
        "tokens": {"train": {"examples": 90, "mean": 120.5, "max": 900}},
    }
    assert summarize_manifest(manifest) == {
        "name": "phase33",
        "train": 90,
        "valid": 10,
        "rejected": 5,
        "train per category": {"git": 30, "chat": 60},
        "train tokens": {"mean": 120.5, "max": 900},
    }


def test_loss_points_survive_a_json_round_trip(tmp_path: Path):
    """A report's loss points keep their None values through JSON."""
    report = RunReport(created="now", model="m", run_dir="r", losses=(LossPoint(5, None, 1.0),))
    assert RunReport.from_dict(json.loads(json.dumps(report.to_dict()))).losses == report.losses


def test_report_json_puts_the_classifier_beside_the_models(report, tmp_path):
    """report.json holds the baseline and a first-tool row per category: base, trained, clf."""
    files = write_report(report, tmp_path)
    data = json.loads(files.json.read_text())
    assert data["baseline"]["overall"] == {"name": "overall", "n": 2, "right": 1, "accuracy": 0.5}
    assert data["trained"]["overall"]["first_tool"] == 0.5
    assert data["trained"]["queries"][1]["first_tool"] == "git_log"
    rows = {row["name"]: row for row in data["first_tool"]}
    assert rows["alpha"] == {
        "name": "alpha",
        "n": 1,
        "base": 0.0,
        "trained": 1.0,
        "classifier": 0.0,
    }
    assert rows["overall"]["classifier"] == 0.5
    assert RunReport.from_dict(data) == report


def test_markdown_has_the_first_tool_table_and_links_the_confusion(report):
    """report.md compares first-tool accuracy with the classifier and shows confusion.png."""
    text = render_markdown(report)
    assert "## First tool: models vs the bag-of-words classifier" in text
    assert "| category | n | base | trained | classifier |" in text
    assert "| beta | 1 | 0.0% | 0.0% | 100.0% |" in text
    assert "| overall | 2 | 0.0% | 50.0% | 50.0% |" in text
    assert "50 examples, 2 first tools, `data/x/train.jsonl`" in text
    assert "![confusion](confusion.png)" in text


def test_write_report_writes_the_confusion_png(report, tmp_path):
    """confusion.png is written beside the report when a model was evaluated."""
    files = write_report(report, tmp_path)
    assert files.confusion is not None and files.confusion == tmp_path / "confusion.png"
    assert files.confusion.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bare = write_report(RunReport(created="now", model="m", run_dir="r"), tmp_path / "bare")
    assert bare.confusion is None
    assert not (tmp_path / "bare" / "confusion.png").exists()


def test_confusion_counts_rows_expected_and_columns_chosen(report):
    """Right first tools sit on the diagonal; a query that called nothing is a (none) column."""
    assert report.trained is not None
    rows, columns, counts = confusion_counts(report.trained)
    assert rows == ["read_text"]
    assert columns == ["read_text", "git_log"]
    assert counts == {("read_text", "read_text"): 1, ("read_text", "git_log"): 1}
    assert report.base is not None
    assert confusion_counts(report.base)[1] == ["read_text", NO_TOOL]


def test_report_without_a_baseline_shows_the_models_first_tool(report):
    """An evaluation-only run without a dataset still gets the first-tool table."""
    text = render_markdown(attrs.evolve(report, baseline=None))
    assert "| overall | 2 | 0.0% | 50.0% | — |" in text
