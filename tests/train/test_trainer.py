"""Real training on the tiny model: loss goes down, adapters reload, resume is exact."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import attrs
import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np
import pytest
from rich.console import Console

from punie_train.checkpoint import list_checkpoints, load_safetensors
from punie_train.config import LoraParameters, LrSchedule, TrainConfig
from punie_train.progress import EventLog
from punie_train.trainer import (
    TrainError,
    TrainingInterrupted,
    TrainSummary,
    _config_changes,
    apply_adapters,
    build_optimizer,
    train,
)
from tests.train.tiny import chats

CONFIG = TrainConfig(
    model="tiny",
    iters=12,
    batch_size=1,
    grad_accumulation_steps=2,
    num_layers=2,
    learning_rate=2e-3,
    lr_schedule=LrSchedule(warmup=2, warmup_init=1e-4),
    lora_parameters=LoraParameters(rank=4, scale=10.0),
    steps_per_report=1,
    steps_per_eval=4,
    save_every=4,
    val_batches=-1,
)


def run(
    model_dir: Path,
    run_dir: Path,
    config: TrainConfig = CONFIG,
    *,
    resume: bool = False,
    on_report: Any = None,
) -> TrainSummary:
    """Train a freshly loaded tiny model on 12 chats (4 for validation), quietly."""
    from mlx_lm import load

    loaded: Any = load(str(model_dir))
    model, tokenizer = loaded[0], loaded[1]
    console = Console(file=io.StringIO(), width=100)
    return train(
        config,
        model,
        tokenizer,
        chats(12),
        chats(16)[12:],
        run_dir,
        resume=resume,
        on_report=on_report,
        console=console,
    )


def events(summary_or_dir: TrainSummary | Path, kind: str) -> list[dict[str, Any]]:
    """The run's logged events of one kind."""
    path = (
        summary_or_dir.log_path
        if isinstance(summary_or_dir, TrainSummary)
        else (summary_or_dir / "train_log.jsonl")
    )
    return [e for e in EventLog(path).read() if e["event"] == kind]


@pytest.fixture(name="finished", scope="module")
def fixture_finished(
    tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> TrainSummary:
    """One complete uninterrupted run, shared by the tests that only read its outputs."""
    return run(tiny_model_dir, tmp_path_factory.mktemp("run"))


def expected_lr(config: TrainConfig, step: int) -> float:
    """The learning rate at 0-based optimizer step `step`: linear warm-up, then cosine."""
    schedule = config.lr_schedule
    assert schedule is not None
    peak, decay_steps, end = config.schedule_arguments()
    if step <= schedule.warmup:
        return schedule.warmup_init + (peak - schedule.warmup_init) * step / schedule.warmup
    t = min(step - schedule.warmup - 1, decay_steps)
    return end + 0.5 * (peak - end) * (1 + math.cos(math.pi * t / decay_steps))


def test_training_lowers_the_loss(finished: TrainSummary) -> None:
    """Twelve iterations on the tiny model lower both training and validation loss."""
    train_losses = [e["train_loss"] for e in events(finished, "train")]
    val_losses = [e["val_loss"] for e in events(finished, "val")]
    assert train_losses[-1] < train_losses[0]
    assert val_losses[-1] < val_losses[0]
    assert finished.iterations == 12 and finished.updates == 6
    assert finished.final_train_loss == train_losses[-1]
    assert (finished.tokens_per_s or 0) > 0 and finished.trained_tokens_per_s > 0


def test_log_has_every_report(finished: TrainSummary) -> None:
    """A train event per update and validation at 0, every 4 iterations and the end."""
    assert [e["iteration"] for e in events(finished, "train")] == [2, 4, 6, 8, 10, 12]
    assert [e["iteration"] for e in events(finished, "val")] == [0, 4, 8, 12]
    assert [e["iteration"] for e in events(finished, "save")] == [4, 8, 12]


def test_log_has_the_gradient_norm(finished: TrainSummary) -> None:
    """Each train event carries its updates' gradient norm (positive, finite, mean <= max)."""
    for event in events(finished, "train"):
        assert 0 < event["grad_norm"] <= event["grad_norm_max"] < math.inf


def test_log_has_the_process_peak_memory(finished: TrainSummary) -> None:
    """Each train event carries the process's peak resident size, never below mlx's peak."""
    for event in events(finished, "train"):
        assert event["peak_rss_gb"] >= event["peak_memory_gb"] > 0


def test_learning_rate_in_the_log_follows_the_schedule(finished: TrainSummary) -> None:
    """The optimizer's learning rate after each update is the warm-up/cosine formula's."""
    logged = [(e["update"], e["learning_rate"]) for e in events(finished, "train")]
    for update, rate in logged:
        assert rate == pytest.approx(expected_lr(CONFIG, update - 1), rel=1e-5)


def test_optimizer_schedule_at_warmup_peak_and_end() -> None:
    """Read back from the optimizer over the default run's updates: warm-up, peak, cosine end."""
    config = TrainConfig()
    optimizer = build_optimizer(config)
    layer = nn.Linear(2, 2)
    zero = {"weight": mx.zeros((2, 2)), "bias": mx.zeros((2,))}
    rates = []
    for _ in range(config.updates):
        optimizer.update(layer, zero)
        rates.append(optimizer.learning_rate.item())
    warmup = config.lr_schedule.warmup if config.lr_schedule else 0
    for step in (0, warmup // 2, warmup, warmup + 1, config.updates // 2, config.updates - 1):
        assert rates[step] == pytest.approx(expected_lr(config, step), rel=1e-5), step
    assert rates[warmup] == pytest.approx(config.learning_rate)
    # The last update is one cosine step short of the end: within 1% of lr / 10 at 80 updates.
    assert rates[-1] == pytest.approx(config.learning_rate / 10, rel=1e-2)


def test_adapter_reloads_with_mlx_lm_to_the_same_logits(
    finished: TrainSummary, tiny_model_dir: Path
) -> None:
    """mlx_lm.load(..., adapter_path=) on the final adapter reproduces the trained model."""
    from mlx_lm import load

    trained: Any = load(str(tiny_model_dir), adapter_path=str(finished.adapter_path))
    base: Any = load(str(tiny_model_dir))
    tokens = mx.array([[1, 5, 9, 40, 77, 3, 2]])
    weights = load_safetensors(finished.adapter_path / "adapters.safetensors")
    base[0].freeze()
    apply_adapters(base[0], CONFIG)
    base[0].load_weights(list(weights.items()), strict=False)
    assert np.allclose(np.array(trained[0](tokens)), np.array(base[0](tokens)), atol=1e-5)
    untrained: Any = load(str(tiny_model_dir))
    assert not np.allclose(np.array(trained[0](tokens)), np.array(untrained[0](tokens)), atol=1e-3)


def test_best_adapter_has_the_lowest_validation_loss(finished: TrainSummary) -> None:
    """The best adapter is the lowest validation loss's, and says which iteration it is."""
    vals = events(finished, "val")
    best = min(vals, key=lambda e: e["val_loss"])
    assert (finished.best_iteration, finished.best_val_loss) == (
        best["iteration"],
        best["val_loss"],
    )
    config = json.loads((finished.best_adapter_path / "adapter_config.json").read_text())
    assert config["punie"]["iteration"] == best["iteration"]
    assert config["lora_parameters"]["rank"] == 4 and config["num_layers"] == 2


def test_resume_after_interruption_is_exact(
    finished: TrainSummary, tiny_model_dir: Path, tmp_path: Path
) -> None:
    """Stopped at iteration 6 by Ctrl-C and resumed: same iterations, rates and losses."""

    def stop_at_six(event: dict[str, Any]) -> None:
        if event["event"] == "train" and event["iteration"] == 6:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted) as stopped:
        run(tiny_model_dir, tmp_path, on_report=stop_at_six)
    assert stopped.value.iteration == 6
    resumed = run(tiny_model_dir, tmp_path, resume=True)
    assert resumed.resumed_from == 6

    def trajectory(source: TrainSummary | Path) -> list[tuple[int, float, float]]:
        return [
            (e["iteration"], e["learning_rate"], e["train_loss"]) for e in events(source, "train")
        ]

    assert trajectory(tmp_path) == trajectory(finished)
    assert [e["val_loss"] for e in events(tmp_path, "val")] == [
        e["val_loss"] for e in events(finished, "val")
    ]
    a = load_safetensors(finished.adapter_path / "adapters.safetensors")
    b = load_safetensors(resumed.adapter_path / "adapters.safetensors")
    assert all(np.array_equal(np.array(a[k]), np.array(b[k])) for k in a)


def test_checkpoints_keep_the_two_newest(finished: TrainSummary) -> None:
    """Only the newest two checkpoints stay, each with adapter, optimizer state and iteration."""
    kept = list_checkpoints(finished.log_path.parent)
    assert [c.iteration for c in kept] == [8, 12]
    assert all((c.path / "optimizer.safetensors").is_file() for c in kept)


def test_fresh_run_refuses_a_dir_with_checkpoints(
    finished: TrainSummary, tiny_model_dir: Path
) -> None:
    """Starting over in a run dir that has checkpoints is an error, not an overwrite."""
    with pytest.raises(TrainError, match="--resume"):
        run(tiny_model_dir, finished.log_path.parent)


def test_resume_refuses_a_changed_config(finished: TrainSummary, tiny_model_dir: Path) -> None:
    """Resuming with different training knobs is refused, naming them."""
    changed = attrs.evolve(CONFIG, learning_rate=1e-3)
    with pytest.raises(TrainError, match="learning_rate"):
        run(tiny_model_dir, finished.log_path.parent, changed, resume=True)


def test_resuming_a_finished_run_returns_its_summary(
    finished: TrainSummary, tiny_model_dir: Path
) -> None:
    """Resume on a completed run trains nothing and reports the same result."""
    again = run(tiny_model_dir, finished.log_path.parent, resume=True)
    assert again.iterations == 12 and again.resumed_from == 12
    assert again.best_iteration == finished.best_iteration
    assert (again.final_train_loss, again.final_val_loss) == (
        finished.final_train_loss,
        finished.final_val_loss,
    )


@pytest.mark.parametrize("kind", ["dora", "full"])
def test_other_fine_tune_types_reload_with_mlx_lm(
    kind: str, tiny_model_dir: Path, tmp_path: Path
) -> None:
    """DoRA and full fine-tuning also write adapters mlx-lm loads back to the same logits."""
    from mlx_lm import load

    loaded: Any = load(str(tiny_model_dir))
    model, tokenizer = loaded[0], loaded[1]
    config = attrs.evolve(CONFIG, fine_tune_type=kind, iters=4, steps_per_eval=100)
    summary = train(
        config,
        model,
        tokenizer,
        chats(8),
        chats(10)[8:],
        tmp_path,
        console=Console(file=io.StringIO()),
    )
    reloaded: Any = load(str(tiny_model_dir), adapter_path=str(summary.adapter_path))
    tokens = mx.array([[1, 5, 9, 40, 77, 3, 2]])
    model.eval()
    assert np.allclose(np.array(model(tokens)), np.array(reloaded[0](tokens)), atol=1e-5)


def test_lora_knobs_reach_the_layers(tiny: tuple[Any, Any]) -> None:
    """Rank, scale and dropout land on exactly the top `num_layers` layers."""
    from mlx_lm.tuner.lora import LoRALinear

    model = tiny[0]
    config = attrs.evolve(CONFIG, num_layers=3, lora_parameters=LoraParameters(5, 7.5, 0.25))
    apply_adapters(model, config)
    adapted = [
        [m for _, m in layer.named_modules() if isinstance(m, LoRALinear)] for layer in model.layers
    ]
    assert [len(a) for a in adapted] == [0, 7, 7, 7]
    for module in adapted[-1]:
        assert module.lora_a.shape[1] == 5 and module.scale == 7.5
        assert str(module.dropout) == "Dropout(p=0.25)"


def test_optimizer_knobs_reach_the_optimizer() -> None:
    """The optimizer name and its YAML arguments build that optimizer with those arguments."""
    config = TrainConfig(
        optimizer="adamw", optimizer_config={"adamw": {"weight_decay": 0.05, "betas": [0.8, 0.9]}}
    )
    optimizer = build_optimizer(config)
    assert isinstance(optimizer, optim.AdamW)
    assert optimizer.weight_decay == 0.05 and list(optimizer.betas) == [0.8, 0.9]


def test_a_checkpoint_saved_before_the_numpy_gradient_resumes_with_mlx_s() -> None:
    """A config without `numpy_gradient` was trained by mlx: resumable with it off, not on."""
    saved = json.loads(json.dumps(TrainConfig().to_mapping()))
    del saved["numpy_gradient"]
    assert _config_changes(saved, TrainConfig(numpy_gradient=False)) == []
    assert _config_changes(saved, TrainConfig()) == ["numpy_gradient"]
