"""Adapter directories mlx-lm can load, and resumable checkpoints, all written atomically.

An adapter directory holds `adapters.safetensors` (the trainable weights) and
`adapter_config.json` in mlx-lm's format, so `mlx_lm.load(model, adapter_path=dir)` and
`punie_runtime.base_model.load_model(spec, adapter_path=dir)` both read it.

A checkpoint (`<run>/checkpoints/iter-0000100/`) adds the optimizer state (Adam moments, step,
learning rate) and `state.json` (iteration, update count, best validation so far, config), which
is all a resumed run needs to continue exactly: the data order and dropout are functions of the
seed and the update number. Adapters and checkpoints are built in a hidden directory beside,
every file fsynced, and swapped into place whole (`punie_tools.atomic`), so a crash, even
SIGKILL, never leaves a half-written one; the two newest checkpoints are kept.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, cast

import attrs
import mlx.core as mx
import mlx.nn as nn
from mlx.utils import tree_flatten, tree_unflatten

from punie_tools import atomic
from punie_train.config import TrainConfig

ADAPTER_WEIGHTS = "adapters.safetensors"
ADAPTER_CONFIG = "adapter_config.json"
OPTIMIZER_STATE = "optimizer.safetensors"
STATE = "state.json"
KEEP = 2
_NAME = re.compile(r"^iter-(\d{7,})$")


@attrs.frozen
class Best:
    """The best validation so far: its iteration, loss and tool-choice probe accuracy."""

    iteration: int
    val_loss: float
    probe_accuracy: float | None = None

    def beaten_by(self, val_loss: float, probe_accuracy: float | None) -> bool:
        """Whether a new validation is better: higher probe accuracy, then lower loss.

        A probed validation beats an unprobed one: only iteration 0 goes unprobed, and its
        untrained adapter is never what a run with a probe is for, even where the validation
        loss rises above the untrained model's (a split whose valid chats the mix leaves out).
        """
        if probe_accuracy is not None and self.probe_accuracy is None:
            return True
        if (
            probe_accuracy is not None
            and self.probe_accuracy is not None
            and probe_accuracy != self.probe_accuracy
        ):
            return probe_accuracy > self.probe_accuracy
        return val_loss < self.val_loss


@attrs.frozen
class Checkpoint:
    """A complete checkpoint directory and what its `state.json` says."""

    path: Path
    iteration: int
    update: int
    best: Best | None
    config: dict[str, Any]

    def adapter_weights(self) -> list[tuple[str, mx.array]]:
        """The saved trainable weights, for `model.load_weights(..., strict=False)`."""
        return list(load_safetensors(self.path / ADAPTER_WEIGHTS).items())

    def optimizer_state(self) -> dict[str, Any]:
        """The saved optimizer state tree, for `optimizer.state = ...`."""
        return tree_unflatten(list(load_safetensors(self.path / OPTIMIZER_STATE).items()))


def load_safetensors(path: Path) -> dict[str, mx.array]:
    """The arrays of a .safetensors file by name."""
    return cast("dict[str, mx.array]", mx.load(str(path)))


def adapter_config(config: TrainConfig, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """mlx-lm's `adapter_config.json` content (its keys plus what produced the weights)."""
    data = config.to_mapping()
    if extra:
        data["punie"] = extra
    return data


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def _fill_adapter(
    directory: Path, weights: dict[str, mx.array], config: TrainConfig, extra: dict[str, Any]
) -> None:
    mx.save_safetensors(str(directory / ADAPTER_WEIGHTS), _in_order(weights))
    _write_json(directory / ADAPTER_CONFIG, adapter_config(config, extra))


def _in_order(arrays: dict[str, mx.array]) -> dict[str, mx.array]:
    """Arrays inserted by name: mlx lays a file out in insertion order, so equal state (fresh or
    resumed) gives equal bytes."""
    return dict(sorted(arrays.items(), key=lambda item: item[0]))


def trainable_weights(model: nn.Module) -> dict[str, mx.array]:
    """The weights a run changes (LoRA matrices, or whole layers for a full fine-tune)."""
    return dict(tree_flatten(model.trainable_parameters()))


def write_adapter(
    directory: Path, weights: dict[str, mx.array], config: TrainConfig, extra: dict[str, Any]
) -> Path:
    """Write (replace) an mlx-lm adapter directory: built aside, swapped in whole."""
    atomic.remove_stale(directory)  # what a killed writer left; the run lock makes it ours
    staging = atomic.staging_dir(directory)
    try:
        _fill_adapter(staging, weights, config, extra)
        atomic.replace_dir(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def checkpoint_root(run_dir: Path) -> Path:
    """Where a run's checkpoints live."""
    return run_dir / "checkpoints"


def save_checkpoint(
    run_dir: Path,
    *,
    iteration: int,
    update: int,
    weights: dict[str, mx.array],
    optimizer_state: dict[str, Any],
    best: Best | None,
    config: TrainConfig,
) -> Path:
    """Write a complete checkpoint for `iteration` and prune all but the newest ones."""
    root = checkpoint_root(run_dir)
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"iter-{iteration:07d}"
    tidy(run_dir)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    try:
        _fill_adapter(staging, weights, config, {"iteration": iteration})
        state = _in_order(dict(tree_flatten(optimizer_state)))
        mx.save_safetensors(str(staging / OPTIMIZER_STATE), state)
        _write_json(
            staging / STATE,
            {
                "iteration": iteration,
                "update": update,
                "best": attrs.asdict(best) if best else None,
                "config": config.to_mapping(),
            },
        )
        atomic.replace_dir(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    tidy(run_dir)
    return final


def tidy(run_dir: Path) -> None:
    """Delete staging directories a killed run left and all but the newest checkpoints.

    Only the run holding the run directory's lock may call it.
    """
    root = checkpoint_root(run_dir)
    if not root.is_dir():
        return
    for leftover in root.glob(".staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for old in list_checkpoints(run_dir)[:-KEEP]:
        gone = Path(tempfile.mkdtemp(prefix=".staging-", dir=root)) / old.path.name
        old.path.rename(gone)  # out of sight at once, then deleted
        shutil.rmtree(gone.parent, ignore_errors=True)


def _read(path: Path) -> Checkpoint | None:
    match = _NAME.match(path.name)
    needed = (STATE, ADAPTER_WEIGHTS, ADAPTER_CONFIG, OPTIMIZER_STATE)
    if not match or not all((path / name).is_file() for name in needed):
        return None
    try:
        state = json.loads((path / STATE).read_text(encoding="utf-8"))
        best = Best(**state["best"]) if state.get("best") else None
        return Checkpoint(
            path, int(state["iteration"]), int(state["update"]), best, state["config"]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def list_checkpoints(run_dir: Path) -> list[Checkpoint]:
    """The run's complete checkpoints, oldest first."""
    root = checkpoint_root(run_dir)
    if not root.is_dir():
        return []
    found = [c for c in (_read(p) for p in root.iterdir() if p.is_dir()) if c is not None]
    return sorted(found, key=lambda c: c.iteration)


def latest_checkpoint(run_dir: Path) -> Checkpoint | None:
    """The newest complete checkpoint of a run, if any."""
    found = list_checkpoints(run_dir)
    return found[-1] if found else None
