"""End to end on the embedded model: train a few iterations on a small slice, get interrupted,
resume through ``python -m punie_train --resume``, reload the best adapter, evaluate base and
trained on a few real eval queries, and write the report.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

from punie_eval.eval_results import RUNGS
from punie_train.cli import main

FOUNDATION = Path(__file__).parents[2] / "punie_datagen" / "foundation_data"
ITERS = 4
KNOBS: dict[str, int | float] = {
    "iters": ITERS,
    "grad_accumulation_steps": 1,
    "max_seq_length": 192,
    "steps_per_report": 1,
    "steps_per_eval": 2,
    "save_every": 1,
    "val_batches": -1,
    "learning_rate": 5e-4,
}
EVAL_QUERIES = 2


def flags(knobs: dict[str, Any]) -> list[str]:
    """CLI flags for training knobs."""
    return [
        part for key, value in knobs.items() for part in (f"--{key.replace('_', '-')}", str(value))
    ]


def shortest_tool_chats(path: Path, count: int) -> list[str]:
    """The ``count`` shortest foundation lines that contain a tool call (few tokens: fast)."""
    lines = [line for line in path.read_text().splitlines() if "<tool_call>" in line]
    return sorted(lines, key=len)[:count]


@pytest.fixture(name="slice_data", scope="module")
def fixture_slice_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight short training chats and two validation chats from the vendored foundation set."""
    data = tmp_path_factory.mktemp("slice")
    (data / "train.jsonl").write_text("\n".join(shortest_tool_chats(FOUNDATION / "train.jsonl", 8)))
    (data / "valid.jsonl").write_text("\n".join(shortest_tool_chats(FOUNDATION / "valid.jsonl", 2)))
    return data


def train_directly(run_dir: Path, data: Path, stop_at: int | None = None) -> Any:
    """Train with the trainer's API; raise KeyboardInterrupt from the callback at ``stop_at``."""
    from punie_datagen.jsonl import read_chat_jsonl
    from punie_runtime.base_model import load_model
    from punie_tools import Registry
    from punie_train.config_file import load_config
    from punie_train.dataset import load_split
    from punie_train.mix import training_split
    from punie_train.trainer import train

    config = load_config(None, {**KNOBS, "data": str(data)})
    model, tokenizer = load_model()
    names = [spec.name for spec in Registry.load().tools()]
    # The training mix as `python -m punie_train` builds it, so the CLI can resume this run.
    train_set = training_split(read_chat_jsonl(data / "train.jsonl"), tokenizer, config, names)
    valid_set = load_split(data / "valid.jsonl", tokenizer, max_seq_length=config.max_seq_length)

    def interrupt(event: dict[str, Any]) -> None:
        if event.get("event") == "train" and event["iteration"] == stop_at:
            raise KeyboardInterrupt

    return train(config, model, tokenizer, train_set, valid_set, run_dir, on_report=interrupt)


def scheduled_learning_rates(updates: int) -> list[float]:
    """The learning rate after each optimizer update of an uninterrupted run with KNOBS."""
    import mlx.core as mx

    from punie_train.config_file import load_config
    from punie_train.trainer import build_optimizer

    optimizer = build_optimizer(load_config(None, KNOBS))
    weights = {"w": mx.zeros((1,))}
    optimizer.init(weights)
    rates = []
    for _ in range(updates):
        weights = optimizer.apply_gradients({"w": mx.zeros((1,))}, weights)
        rates.append(float(optimizer.learning_rate.item()))
    return rates


@attrs.frozen
class PipelineRun:
    """What the interrupted-then-resumed CLI run left behind."""

    run_dir: Path
    interrupted_at: int
    exit_code: int
    stdout: str
    report: dict[str, Any]
    log: list[dict[str, Any]]
    eval_cache: Path


@pytest.fixture(name="pipeline", scope="module")
def fixture_pipeline(tmp_path_factory: pytest.TempPathFactory, slice_data: Path) -> PipelineRun:
    """Train 2 of 4 iterations, interrupt, then ``python -m punie_train --resume`` to the end."""
    from punie_train.train_outcome import TrainingInterrupted

    run_dir = tmp_path_factory.mktemp("run")
    with pytest.raises(TrainingInterrupted) as stopped:
        train_directly(run_dir, slice_data, stop_at=2)
    capture = pytest.MonkeyPatch()
    out = io.StringIO()
    capture.setattr(sys, "stdout", out)
    capture.setenv("COLUMNS", "200")  # rich's width when stdout is not a terminal
    eval_cache = tmp_path_factory.mktemp("eval-cache")
    capture.setenv("PUNIE_EVAL_CACHE", str(eval_cache))
    try:
        code = main(
            [
                "--resume",
                "--run-dir", str(run_dir),
                "--data", str(slice_data),
                *flags(KNOBS),
                "--eval-limit", str(EVAL_QUERIES),
                "--queries", "git-*",
                "--queries", "text-*",
                "--eval-max-tokens", "8",
            ]
        )  # fmt: skip
    finally:
        capture.undo()
    log = [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines()]
    report = json.loads((run_dir / "report.json").read_text())
    return PipelineRun(
        run_dir, stopped.value.iteration, code, out.getvalue(), report, log, eval_cache
    )


EVAL_FLAGS = ["--eval-limit", str(EVAL_QUERIES), "--queries", "git-*", "--queries", "text-*"]


def test_a_second_run_takes_the_base_evaluation_from_the_cache(
    pipeline, slice_data, tmp_path, monkeypatch
):
    assert len(list(pipeline.eval_cache.glob("*.json"))) == 1  # the first run kept it
    monkeypatch.setenv("PUNIE_EVAL_CACHE", str(pipeline.eval_cache))
    monkeypatch.setenv("COLUMNS", "200")
    console = io.StringIO()
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    monkeypatch.setattr(sys, "stderr", console)
    adapter = pipeline.run_dir / "adapters-best"
    args = ["--adapter", str(adapter), "--run-dir", str(tmp_path), "--data", str(slice_data)]
    args += EVAL_FLAGS
    assert main([*args, "--eval-max-tokens", "8"]) == 0
    assert "base evaluation from the cache" in console.getvalue()
    again = json.loads((tmp_path / "report.json").read_text())
    assert again["base"] == pipeline.report["base"]


def test_cli_run_succeeds_and_ends_with_the_table(pipeline):
    """The resumed CLI run exits 0 and its stdout is the per-category table, overall last."""
    assert pipeline.exit_code == 0
    rows = [line for line in pipeline.stdout.splitlines() if "│" in line]
    assert "overall" in rows[-1]


def test_resume_continues_at_the_interrupted_iteration(pipeline):
    """Each iteration is logged once, and the report says where training resumed."""
    iterations = [e["iteration"] for e in pipeline.log if e["event"] == "train"]
    assert pipeline.interrupted_at == 2
    assert iterations == [1, 2, 3, 4]
    assert pipeline.report["training"]["resumed_from"] == 2
    assert pipeline.report["training"]["iterations"] == ITERS


def test_resumed_run_keeps_the_uninterrupted_learning_rate(pipeline):
    """Before and after the resume, each update's learning rate is the schedule's, in order."""
    logged = [e["learning_rate"] for e in pipeline.log if e["event"] == "train"]
    assert logged == pytest.approx(scheduled_learning_rates(ITERS), rel=1e-6)
    assert len(set(logged)) == len(logged)  # warm-up: the rate moves every update


def test_best_adapter_reloads_and_generates_the_same_fused(pipeline):
    """The evaluated adapter loads onto the base model and generates; fusing it (as the
    evaluation does) changes no greedy token."""
    from punie_runtime.base_model import load_model
    from punie_runtime.engines import fuse_adapters
    from punie_runtime.generate import Generator

    adapter = Path(pipeline.report["trained"]["adapter"])
    messages = [{"role": "user", "content": "Show the git status"}]
    unfused = Generator.load(None, adapter, max_tokens=6).generate(messages)
    network, tokenizer = load_model(None, adapter)
    assert fuse_adapters(network) > 0
    fused = Generator(network, tokenizer, max_tokens=6).generate(messages)
    assert unfused.generated_tokens > 0
    assert fused.tokens == unfused.tokens


def test_report_has_base_and_trained_on_the_same_queries(pipeline):
    """Both evaluations ran the selected real eval queries; the three files exist."""
    base, trained = pipeline.report["base"], pipeline.report["trained"]
    assert [q["id"] for q in base["queries"]] == [q["id"] for q in trained["queries"]]
    assert len(trained["queries"]) == EVAL_QUERIES
    assert {q["category"] for q in trained["queries"]} == {"git", "text"}
    for name in ("report.md", "report.png"):
        assert (pipeline.run_dir / name).stat().st_size > 0


def test_ladder_numbers_are_consistent(pipeline):
    """Strict is every rung; category and overall rates are means over their queries."""
    for result in (pipeline.report["base"], pipeline.report["trained"]):
        queries = result["queries"]
        for q in queries:
            assert q["ladder"]["strict"] == all(q["ladder"][r] for r in RUNGS)
            assert q["latency_s"] > 0 and 0.0 <= q["keyword_score"] <= 1.0
            assert q["ladder"]["parsed"] == (q["steps"][0]["code"] is not None)
        for rung in (*RUNGS, "strict"):
            mean = sum(q["ladder"][rung] for q in queries) / len(queries)
            assert result["overall"][rung] == pytest.approx(mean)
        assert sum(c["n"] for c in result["categories"]) == result["overall"]["n"]


def test_system_prompt_is_prefilled_once_and_reused(pipeline):
    """Each model prefills the system prompt once; every query reuses it from the KV cache."""
    for result in (pipeline.report["base"], pipeline.report["trained"]):
        assert result["system_prefill_s"] > 0
        for q in result["queries"]:
            step = q["steps"][0]
            assert 0 < step["reused_tokens"] < step["prompt_tokens"]


def test_report_markdown_shows_training_and_comparison(pipeline):
    """report.md names the best iteration and has the base-vs-trained table."""
    text = (pipeline.run_dir / "report.md").read_text()
    assert "best iteration:" in text
    assert "| overall | 2 |" in text
    assert "BLAS:" in text
