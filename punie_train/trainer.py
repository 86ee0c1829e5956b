"""LoRA training on mlx-lm's pieces, with loss on every assistant turn and exact resume.

Public API (for `python -m punie_train`):

    summary = train(config, model, tokenizer, train_set, valid_set, run_dir, resume=False,
                    on_report=None)

- `model`, `tokenizer`: from `punie_runtime.base_model.load_model(config.model)` (float32).
  `train` freezes the model and adds the adapters itself (`mlx_lm.tuner.utils.
  linear_to_lora_layers`); the optimizer and schedule are mlx's (`build_schedule`).
- `train_set`, `valid_set`: `TokenizedSplit`s (`punie_train.dataset.load_split`) or lists of
  chats (message lists or `{"messages": [...]}` records) to tokenize here.
- `run_dir` receives `train_config.yaml`, `train_log.jsonl` (every report, see
  `punie_train.progress`), `checkpoints/iter-NNNNNNN/` every `save_every` iterations and on
  Ctrl-C, the final adapter in `config.adapter_path` (relative paths are inside `run_dir`) and
  the adapter with the best validation (`checkpoint.Best`) next to it with a `-best` suffix
  (`BEST_SUFFIX`).
  Both are mlx-lm adapter directories.
- `resume=True` continues from the newest checkpoint: same iteration, learning rate, Adam
  state and next batch, so the result equals an uninterrupted run. Without `resume`, a run dir
  that already holds checkpoints is an error rather than silently overwritten.
- `on_report(event)` gets each event dict as it is logged; raising `KeyboardInterrupt` there
  stops the run like Ctrl-C does. An interrupted run saves a checkpoint and raises
  `TrainingInterrupted` (a `KeyboardInterrupt`).

Under `mlx.launch -n N` (see `punie_train.distributed`) every rank runs `train` with the same
arguments: each takes its share of every update's examples and the gradients are summed over
the ranks before the optimizer step. Only rank 0 reads the run directory's checkpoint (its
state is broadcast) and writes the log, checkpoints and adapters; the other ranks write
nothing. A global batch that does not divide among the ranks is a `TrainError`; a rank that
stops makes the others stop with a message naming it (`punie_train.distributed`).

Iterations count micro-batches of `batch_size` examples as mlx-lm does; the examples of one
optimizer update (`batch_size * grad_accumulation_steps`) run as one forward/backward pass
(see `punie_train.step`), which gives the same gradient as accumulating them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import mlx.core as mx
import mlx.nn as nn
import numpy as np
from mlx.utils import tree_flatten, tree_unflatten
from rich.console import Console

from punie_eval.train_summary import BEST_SUFFIX, TrainSummary
from punie_tools import atomic
from punie_train.checkpoint import (
    Best,
    latest_checkpoint,
    save_checkpoint,
    tidy,
    trainable_weights,
    write_adapter,
)
from punie_train.config import TrainConfig
from punie_train.dataset import TokenizedSplit, tokenize_split
from punie_train.distributed import DistributedError, World, world
from punie_train.forward import check_fast_paths
from punie_train.probe import ToolProbe
from punie_train.progress import LOG_NAME, EventLog, TrainProgress
from punie_train.sampling import validation_subset
from punie_train.step import (
    LoopState,
    TrainError,
    apply_adapters,
    build_optimizer,
    gradient_function,
    run_update,
    train_event,
    validation_loss,
)
from punie_train.train_outcome import TrainingInterrupted

__all__ = [
    "TrainError",
    "TrainSummary",
    "TrainingInterrupted",
    "apply_adapters",
    "build_optimizer",
    "train",
]

ReportCallback = Callable[[dict[str, Any]], None]
RESUMABLE_CHANGES = frozenset(
    {"steps_per_report", "steps_per_eval", "save_every", "model", "data", "probe_examples"}
)
SAVED_BEFORE_THE_KEY = {"numpy_gradient": False, "path_swap": 0.0, "path_words": 0.0}
"""What a knob's absence from a checkpoint's config means: it was saved before the knob existed
(its behaviour then: mlx computed the gradient, files stayed as written)."""


def as_split(data: Any, tokenizer: Any, config: TrainConfig, name: str) -> TokenizedSplit:
    """A `TokenizedSplit` as is; chats (message lists or records) tokenized with the template."""
    if isinstance(data, TokenizedSplit):
        return data
    chats = [item["messages"] if isinstance(item, Mapping) else item for item in data]
    return tokenize_split(
        chats,
        tokenizer,
        max_seq_length=config.max_seq_length,
        mask_prompt=config.mask_prompt,
        source=name,
    )


def _count(parameters: Any) -> int:
    return sum(cast(mx.array, v).size for _, v in tree_flatten(parameters))


def _crossed(before: int, now: int, every: int) -> bool:
    return now // every > before // every


def _config_changes(saved: Mapping[str, Any], config: TrainConfig) -> list[str]:
    current = json.loads(json.dumps(config.to_mapping()))
    saved = {**SAVED_BEFORE_THE_KEY, **saved}
    keys = set(saved) | set(current)
    return sorted(k for k in keys if saved.get(k) != current.get(k) and k not in RESUMABLE_CHANGES)


def _output_dirs(config: TrainConfig, run_dir: Path) -> tuple[Path, Path]:
    final = Path(config.adapter_path).expanduser()
    final = final if final.is_absolute() else run_dir / final
    return final, final.with_name(final.name + BEST_SUFFIX)


def train(
    config: TrainConfig,
    model: nn.Module,
    tokenizer: Any,
    train_set: Any,
    valid_set: Any,
    run_dir: Path,
    resume: bool = False,
    on_report: ReportCallback | None = None,
    console: Console | None = None,
    probe: ToolProbe | None = None,
) -> TrainSummary:
    """Fine-tune `model` in place on `train_set`; see the module docstring for the contract."""
    started = time.perf_counter()
    ranks = world()
    leader = ranks.leader
    console = console or Console(stderr=True)
    if not leader:
        console = Console(stderr=True, quiet=True)
    per_update = config.batch_size * config.grad_accumulation_steps
    try:
        ranks.check_divides(per_update, config.batch_size, config.grad_accumulation_steps)
    except DistributedError as error:
        raise TrainError(str(error)) from None
    if leader:
        run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = latest_checkpoint(run_dir) if leader else None
    if checkpoint is not None and not resume:
        raise TrainError(
            f"{run_dir} already has a checkpoint at iteration {checkpoint.iteration}: "
            "resume it (--resume) or use another run directory"
        )
    train_split = as_split(train_set, tokenizer, config, "train")
    valid_split = as_split(valid_set, tokenizer, config, "valid")
    apply_adapters(model, config)
    fast = check_fast_paths(model, int(getattr(tokenizer, "vocab_size", 1000) or 1000))
    optimizer = build_optimizer(config)
    optimizer.init(model.trainable_parameters())
    log = EventLog(run_dir / LOG_NAME)
    if leader:
        for name in (LOG_NAME, "train_config.yaml"):  # what a killed run left (the run lock's)
            atomic.remove_stale(run_dir / name)
        tidy(run_dir)
    final_dir, best_dir = _output_dirs(config, run_dir)
    loop = LoopState(update=0, iteration=0, best=None)
    if checkpoint is not None:
        changed = _config_changes(checkpoint.config, config)
        if changed:
            raise TrainError(
                f"cannot resume {checkpoint.path}: config changed ({', '.join(changed)})"
            )
        model.load_weights(checkpoint.adapter_weights(), strict=False)
        optimizer.state = checkpoint.optimizer_state()
        optimizer.init(model.trainable_parameters())
        loop = LoopState(checkpoint.update, checkpoint.iteration, checkpoint.best)
        loop.last_saved = checkpoint.iteration
        log.truncate_after(checkpoint.iteration)
    elif leader:
        if resume:
            console.print(f"[yellow]no checkpoint in {run_dir}; starting from iteration 0")
        if config.resume_adapter_file:
            model.load_weights(config.resume_adapter_file, strict=False)
        log.truncate_after(-1)  # a fresh run's log starts empty
    resumed_from = checkpoint.iteration if checkpoint else None
    if leader:
        atomic.write_text(run_dir / "train_config.yaml", config.to_yaml())
    mx.eval(model.parameters(), optimizer.state)
    if not ranks.single:
        resumed_from = _share_start(ranks, model, optimizer, loop, resumed_from)

    lengths = train_split.lengths
    val_examples = [
        valid_split[int(i)]
        for i in validation_subset(
            len(valid_split),
            -1 if config.val_batches < 0 else config.val_batches * config.batch_size,
            config.seed,
        )
    ]
    value_and_grad, gradient_note = gradient_function(model, config)
    if config.grad_checkpoint:
        from mlx_lm.tuner.trainer import grad_checkpoint

        grad_checkpoint(model.layers[0])
    order_cache: dict[int, list[np.ndarray]] = {}

    def emit(event: dict[str, Any]) -> None:
        if not leader:
            return
        log.append(event)
        if on_report is not None:
            on_report(event)

    def evaluate(progress: TrainProgress | None) -> None:
        if not val_examples:
            return
        tic = time.perf_counter()
        loss = validation_loss(model, val_examples, fast, ranks)
        mx.clear_cache()  # the validation pass's buffers are not needed again soon
        val_s = time.perf_counter() - tic
        if not leader:  # the probe and the best adapter are rank 0's
            loop.final_val_loss = loss
            return
        # The untrained model's choice is known (none): no probe at iteration 0.
        probed = probe.run(model, tokenizer) if probe is not None and loop.iteration else None
        accuracy = probed.accuracy if probed is not None else None
        improved = loop.best is None or loop.best.beaten_by(loss, accuracy)
        if improved:
            loop.best = Best(loop.iteration, loss, accuracy)
            write_adapter(
                best_dir,
                trainable_weights(model),
                config,
                {"iteration": loop.iteration, "val_loss": loss, "probe_accuracy": accuracy},
            )
        loop.final_val_loss = loss
        event: dict[str, Any] = {
            "event": "val",
            "iteration": loop.iteration,
            "val_loss": loss,
            "best": improved,
            "val_s": val_s,
        }
        if probed is not None:
            event |= {
                "probe_accuracy": probed.accuracy,
                "probe_n": probed.n,
                "probe_s": probed.seconds,
            }
        if progress is not None:
            note = f"iter {loop.iteration}: val loss {loss:.3f}"
            if probed is not None:
                note += f", first tool {probed.accuracy:.1%} of {probed.n}"
            progress.note(note + (" (best)" if improved else ""))
        emit(event)

    def save(kind: str = "save") -> Path | None:
        if not leader or loop.committed is None or loop.committed[1] == loop.last_saved:
            return None
        update, iteration, weights, state = loop.committed
        path = save_checkpoint(
            run_dir,
            iteration=iteration,
            update=update,
            weights=weights,
            optimizer_state=state,
            best=loop.best,
            config=config,
        )
        loop.last_saved = iteration
        log.append({"event": kind, "iteration": iteration, "path": str(path)})
        return path

    console.print(
        f"training {_count(model.trainable_parameters()):,} "
        f"parameters on {len(train_split)} examples ({train_split.truncated} truncated, "
        f"{train_split.dropped} without assistant tokens); {fast.note}; {gradient_note}"
    )
    start: dict[str, Any] = {
        "event": "start",
        "iteration": loop.iteration,
        "resumed": resumed_from is not None,
        "fast_paths": fast.note,
        "gradient": gradient_note,
        "train_examples": len(train_split),
        "valid_examples": len(val_examples),
    }
    emit(start if ranks.single else start | {"ranks": ranks.size})
    with TrainProgress(console, config.iters, loop.iteration) as progress:
        try:
            if resumed_from is None:
                evaluate(progress)
            while loop.iteration < config.iters:
                run_update(
                    config,
                    model,
                    optimizer,
                    value_and_grad,
                    train_split,
                    lengths,
                    per_update,
                    order_cache,
                    fast,
                    loop,
                    ranks,
                )
                progress.advance(
                    loop.iteration,
                    loop.window_losses[-1],
                    loop.window_tokens / max(loop.window_time, 1e-9),
                )
                before = loop.iteration - config.grad_accumulation_steps
                done = loop.iteration >= config.iters
                if _crossed(before, loop.iteration, config.steps_per_report) or done:
                    event = train_event(loop, optimizer)
                    progress.note(
                        f"iter {event['iteration']}: train loss {event['train_loss']:.3f}, "
                        f"lr {event['learning_rate']:.2e}, grad norm {event['grad_norm']:.2f}, "
                        f"{event['tokens_per_s']:.0f} tok/s"
                    )
                    emit(event)
                if _crossed(before, loop.iteration, config.steps_per_eval) or done:
                    evaluate(progress)
                if _crossed(before, loop.iteration, config.save_every) or done:
                    save()
        except KeyboardInterrupt:
            path = save("interrupt")
            progress.note(
                f"[yellow]interrupted at iteration {loop.iteration}; resume with --resume"
            )
            raise TrainingInterrupted(loop.iteration, path) from None

    ranks.finish()  # no more collectives: a rank that ends now is no longer a lost one
    if leader:
        write_adapter(final_dir, trainable_weights(model), config, {"iteration": loop.iteration})
    if leader and loop.best is None:
        write_adapter(best_dir, trainable_weights(model), config, {"iteration": loop.iteration})
    if loop.final_train_loss is None or loop.final_val_loss is None:  # a finished run resumed
        events = log.read()
        trains = [e["train_loss"] for e in events if e.get("event") == "train"]
        vals = [e["val_loss"] for e in events if e.get("event") == "val"]
        loop.final_train_loss = loop.final_train_loss or (trains[-1] if trains else None)
        loop.final_val_loss = loop.final_val_loss or (vals[-1] if vals else None)
    return TrainSummary(
        wall_time_s=time.perf_counter() - started,
        iterations=loop.iteration,
        best_iteration=loop.best.iteration if loop.best else None,
        best_val_loss=loop.best.val_loss if loop.best else None,
        final_train_loss=loop.final_train_loss,
        final_val_loss=loop.final_val_loss,
        best_adapter_path=best_dir,
        resumed_from=resumed_from,
        trained_tokens_per_s=loop.total_trained / max(loop.total_time, 1e-9),
        adapter_path=final_dir,
        log_path=log.path,
        updates=loop.update,
        best_probe_accuracy=loop.best.probe_accuracy if loop.best else None,
        tokens_per_s=loop.total_tokens / max(loop.total_time, 1e-9),
        fast_paths=f"{fast.note}; {gradient_note}",
        ranks=ranks.size,
        comm_time_s=loop.total_comm,
    )


def _share_start(
    ranks: World,
    model: nn.Module,
    optimizer: Any,
    loop: LoopState,
    resumed_from: int | None,
) -> int | None:
    """Rank 0's starting point (update, iteration, adapter, optimizer state) on every rank."""
    counters = ranks.broadcast(
        mx.array([loop.update, loop.iteration, -1 if resumed_from is None else resumed_from])
    )
    loop.update, loop.iteration, resumed = (int(n) for n in counters.tolist())
    # In name order: rank 0's state dicts were filled in the checkpoint's order, not init's.
    flat = cast(list[tuple[str, mx.array]], tree_flatten(model.trainable_parameters()))
    weights = ranks.broadcast(dict(sorted(flat)))
    model.update(tree_unflatten(list(weights.items())))
    state = dict(tree_flatten(optimizer.state))
    shared = ranks.broadcast({k: v for k, v in sorted(state.items()) if isinstance(v, mx.array)})
    optimizer.state = tree_unflatten(list((state | shared).items()))
    mx.eval(model.parameters(), optimizer.state)
    return None if resumed < 0 else resumed
