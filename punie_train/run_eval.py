"""The evaluation steps of a run: which queries, the base model (cached), a progress display."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from punie_eval.eval_results import EvalResult, QueryResult
from punie_eval.evaluate import EvalSelectionError, evaluate_model, query_problems, select_queries
from punie_runtime.base_model import BaseModel, BaseModelError
from punie_runtime.engines import Engine, choose_engine
from punie_runtime.gguf_export import ExportError
from punie_tools import EvalQuery, Registry
from punie_train.run_options import RunOptions, UserError


def run_engine(options: RunOptions, model: BaseModel | None = None) -> Engine:
    """The engine the run's evaluations of `model` use (``--engine``)."""
    try:
        return choose_engine(options.engine, model=model)
    except ValueError as error:
        raise UserError(str(error)) from None


def pick_queries(registry: Registry, options: RunOptions, console: Console) -> list[EvalQuery]:
    """The eval queries to run (``--queries``, ``--eval-limit``); problems are warned about."""
    try:
        queries = select_queries(
            registry.eval_queries(), patterns=options.queries, limit=options.eval_limit
        )
    except EvalSelectionError as error:
        raise UserError(str(error)) from None
    for problem in query_problems(registry, queries):
        console.print(f"[yellow]warning:[/yellow] eval query {problem}")
    return queries


def base_evaluation(
    registry: Registry,
    model: BaseModel,
    queries: Sequence[EvalQuery],
    options: RunOptions,
    console: Console,
) -> EvalResult:
    """The base model's evaluation: from the cache when the same inputs were evaluated before."""
    from punie_eval.eval_cache import base_eval_key, load_cached, store

    engine = run_engine(options, model)
    try:
        key = base_eval_key(
            model, registry, queries, options.eval_max_tokens, engine.describe(None)
        )
    except BaseModelError as error:
        raise UserError(str(error)) from None
    cached = load_cached(key) if options.base_cache else None
    if cached is not None:
        console.print(
            f"base evaluation from the cache ({key[:12]}, strict {cached.overall.strict:.1%}); "
            "--no-base-cache redoes it"
        )
        return cached
    result = evaluate_with_progress(registry, model, None, "base", queries, options, console)
    try:
        path = store(key, result)
        console.print(f"base evaluation kept for later runs: {path}")
    except OSError as error:
        console.print(f"[yellow]warning:[/yellow] could not keep the base evaluation: {error}")
    return result


def evaluate_with_progress(
    registry: Registry,
    model: BaseModel,
    adapter: Path | None,
    label: str,
    queries: Sequence[EvalQuery],
    options: RunOptions,
    console: Console,
) -> EvalResult:
    """Evaluate one model with a progress bar and a line per query."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("strict {task.fields[passed]}"),
        TimeElapsedColumn(),
    )
    engine = run_engine(options, model)
    console.print(f"eval {label}: {engine.describe(adapter)} answers")
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"eval {label}", total=len(queries), passed=0)
        passed = 0

        def show(result: QueryResult) -> None:
            nonlocal passed
            passed += result.ladder.strict
            verdict = result.ladder.verdict()
            verdict = (
                f"[green]{verdict}[/green]" if result.ladder.strict else f"[red]{verdict}[/red]"
            )
            progress.console.print(
                f"  {label} {result.id} ({result.category}): {verdict} "
                f"{result.latency_s:.1f} s, {result.generated_tokens} tokens"
            )
            progress.update(task, advance=1, passed=passed)

        try:
            return evaluate_model(
                registry,
                model,
                adapter,
                label=label,
                queries=queries,
                max_tokens=options.eval_max_tokens,
                on_result=show,
                engine=engine,
            )
        except (BaseModelError, ExportError) as error:
            raise UserError(str(error)) from None
