"""The steps of a ``python -m punie_train`` run: data, training, evaluation, report.

Imported by the CLI after ``ensure_fast_blas()``; modules that load mlx are imported inside
the steps that need them.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from rich.console import Console

from punie_eval.baseline import baseline_for_run
from punie_eval.report import write_report
from punie_eval.report_data import RunReport, read_loss_log
from punie_eval.train_summary import BEST_SUFFIX, LOG_NAME, TrainSummary
from punie_runtime.base_model import BaseModel, BaseModelError
from punie_runtime.blas import BlasState
from punie_tools import Registry, RegistryError
from punie_tools.prompt import system_prompt
from punie_train.run_data import DATA_FILES, ensure_data, read_manifest
from punie_train.run_eval import base_evaluation, evaluate_with_progress, pick_queries
from punie_train.run_options import RunOptions, UserError
from punie_train.runlock import RunDirBusy, RunLock


def run(options: RunOptions, blas: BlasState, console: Console) -> RunReport | None:
    """Train (unless skipped), evaluate base and trained, write the report; return it.

    The run holds the run directory's lock (`punie_train.runlock`) from start to end. Under
    `mlx.launch` only rank 0 does: the other ranks train their shares and return None.
    """
    from punie_train.distributed import DistributedError, world  # imports mlx

    try:
        ranks = world()
    except DistributedError as error:
        raise UserError(str(error)) from None
    if not ranks.leader:
        _follow(options, console, ranks.rank)
        ranks.finish()
        return None
    try:
        lock = RunLock(options.run_dir).acquire()
    except RunDirBusy as busy:
        raise UserError(str(busy)) from None
    except OSError as error:  # not creatable or writable, or a filesystem without locks
        raise UserError(f"cannot use --run-dir {options.run_dir}: {error}") from None
    try:
        if (stale := lock.stale_message()) is not None:
            console.print(f"[yellow]warning:[/yellow] {stale}", soft_wrap=True)
        return _run(options, blas, console)
    finally:
        lock.release()


def _follow(options: RunOptions, console: Console, rank: int) -> None:
    """A rank other than 0: train its share of every update; it writes (and prints) nothing.

    Its errors still reach `console` (as `UserError`s); its progress does not.
    """
    if options.skip_train:
        return
    console = Console(stderr=True, quiet=True)
    registry = load_registry(console)
    model = parse_model(options.config.model)
    data = Path(options.config.data)
    missing = [name for name in DATA_FILES if not (data / name).is_file()]
    if missing:
        raise UserError(
            f"rank {rank}: {data} has no {' or '.join(missing)}: every machine needs the "
            "dataset at the same path (build or copy it before launching)"
        )
    train_model(options, model, data, console, registry)


def _run(options: RunOptions, blas: BlasState, console: Console) -> RunReport | None:
    from punie_runtime.blas import blas_report  # measures with mlx: after ensure_fast_blas()

    speed = blas_report()
    console.print(speed.describe())
    blas_info = {
        "kind": blas.kind,
        "library": blas.library,
        "note": blas.note,
        "gflops": speed.gflops,
    }
    registry = load_registry(console)
    model = parse_model(options.config.model)
    queries = [] if options.skip_eval else pick_queries(registry, options, console)
    config = options.config
    training: TrainSummary | None = None
    if options.skip_train:
        adapter = existing_adapter(options)
    else:
        data = ensure_data(Path(config.data), config, registry, console)
        training = train_model(options, model, data, console, registry)
        adapter = training.best_adapter_path
        console.print(
            f"trained {training.iterations} iterations in {training.wall_time_s / 60:.1f} min; "
            f"best iteration {training.best_iteration} (val loss {training.best_val_loss}); "
            f"evaluating {adapter}"
        )
    if options.skip_eval:
        return None
    if not queries:
        console.print("[yellow]warning:[/yellow] no eval queries: nothing to evaluate")
    baseline = None
    if queries:  # seconds: TF-IDF and a logistic regression on the run's own train split
        names = [spec.name for spec in registry.tools()]
        baseline, note = baseline_for_run(Path(config.data), names, queries)
        console.print(note)
    base = None
    if not options.skip_base:
        base = base_evaluation(registry, model, queries, options, console)
    trained = evaluate_with_progress(registry, model, adapter, "trained", queries, options, console)
    report = RunReport(
        created=datetime.datetime.now().isoformat(timespec="seconds"),
        model=model.describe(),
        run_dir=str(options.run_dir),
        config=config.to_mapping(),
        data=read_manifest(Path(config.data)),
        blas=blas_info,
        training=training,
        losses=read_loss_log(options.run_dir / LOG_NAME),
        base=base,
        trained=trained,
        baseline=baseline,
    )
    files = write_report(report, options.run_dir)
    pictures = f"{files.png}" + (f", {files.confusion}" if files.confusion else "")
    console.print(f"wrote {files.json}, {files.markdown}, {pictures}")
    return report


def load_registry(console: Console) -> Registry:
    """Every installed plugin; broken ones are reported and skipped."""
    try:
        registry = Registry.load()
    except RegistryError as error:
        raise UserError(str(error)) from None
    for problem in registry.errors:
        console.print(f"[yellow]warning:[/yellow] {problem}")
    return registry


def parse_model(spec: str) -> BaseModel:
    """The base model named by ``--model`` / the config's ``model`` key."""
    try:
        return BaseModel.parse(spec)
    except BaseModelError as error:
        raise UserError(str(error)) from None


def train_model(
    options: RunOptions, model: BaseModel, data: Path, console: Console, registry: Registry
) -> TrainSummary:
    """Load the base model and the data, and run the trainer in the run directory.

    The train split becomes the config's training mix (`punie_train.mix`); the validation
    loss is over the valid split's chats as they are, and the tool-choice probe asks the
    model for the first tool of `probe_examples` of the valid split's requests.
    """
    from punie_datagen.jsonl import DatasetFileError, read_chat_jsonl
    from punie_runtime.base_model import load_model
    from punie_train.dataset import DatasetError, load_split
    from punie_train.distributed import DistributedError
    from punie_train.mix import key_counts, training_split
    from punie_train.probe import ToolProbe, probe_decisions
    from punie_train.trainer import TrainError, train

    config = options.config
    names = [spec.name for spec in registry.tools()]
    try:
        network, tokenizer = load_model(model, numpy_exp=None if config.numpy_exp else False)
        train_file, valid_file = (data / name for name in DATA_FILES)
        train_split = training_split(
            read_chat_jsonl(train_file),
            tokenizer,
            config,
            names,
            source=str(train_file),
            categories={spec.name: spec.category for spec in registry.tools()},
        )
        counts = key_counts(train_split)
        console.print(
            f"training mix: {len(train_split)} examples from {train_file} "
            f"({config.call_examples} call examples, {config.loss_weighting} weighting, "
            f"balance {config.balance}); {len(counts)} first tools, "
            f"{min(counts.values())}-{max(counts.values())} examples each"
        )
        valid_split = load_split(
            valid_file,
            tokenizer,
            max_seq_length=config.max_seq_length,
            mask_prompt=config.mask_prompt,
        )
        probe = None
        if config.probe_examples:
            probe = ToolProbe(
                probe_decisions(
                    read_chat_jsonl(valid_file),
                    names,
                    limit=config.probe_examples,
                    seed=config.seed,
                ),
                system_prompt(registry.tools()),
                names,
            )
        return train(
            config,
            network,
            tokenizer,
            train_split,
            valid_split,
            options.run_dir,
            resume=options.resume,
            console=console,
            probe=probe,
        )
    except (BaseModelError, DatasetError, DatasetFileError, TrainError, DistributedError) as error:
        raise UserError(str(error)) from None


def existing_adapter(options: RunOptions) -> Path:
    """``--adapter``, else the run dir's best adapter (the trainer writes it as ``<name>-best``)."""
    if options.adapter is not None:
        adapter = options.adapter.expanduser()
    else:
        final = Path(options.config.adapter_path).expanduser()
        final = final if final.is_absolute() else options.run_dir / final
        adapter = final.with_name(final.name + BEST_SUFFIX)
    if not (adapter / "adapter_config.json").is_file():
        raise UserError(
            f"no adapter at {adapter} (no adapter_config.json): train first, or pass "
            "--adapter with an mlx-lm adapter directory"
        )
    return adapter
