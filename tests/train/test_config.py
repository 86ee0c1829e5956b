"""TrainConfig: Phase 33 defaults, YAML with mlx-lm keys, CLI flags, precedence and errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from punie_train.config import (
    ConfigError,
    LoraParameters,
    LrSchedule,
    TrainConfig,
)
from punie_train.config_file import add_arguments, cli_overrides, load_config


def parse(argv: list[str], yaml_path: Path | None = None) -> TrainConfig:
    """Config from generated flags plus an optional YAML file, as the CLI builds it."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return load_config(yaml_path, overrides=cli_overrides(parser.parse_args(argv)))


def write(tmp_path: Path, text: str) -> Path:
    """A YAML config file."""
    path = tmp_path / "train.yaml"
    path.write_text(text)
    return path


def test_defaults_are_the_screened_tool_choice_recipe() -> None:
    """Call examples + 30% of the chats whole, per-turn loss with the calling turns x3 and their
    tool names x2, tool-balanced, 250 updates of 8, lr 5e-4."""
    config = TrainConfig()
    assert (config.iters, config.batch_size, config.grad_accumulation_steps) == (2000, 1, 8)
    assert (config.call_examples, config.loss_weighting, config.balance) == ("add", "turn", "tool")
    assert (config.chat_share, config.call_weight, config.name_weight) == (0.3, 3.0, 2.0)
    assert config.mask_prompt and config.max_seq_length == 2048
    assert config.lora_parameters == LoraParameters(rank=8, scale=20.0, dropout=0.0)
    assert config.learning_rate == 5e-4 and config.lr_schedule is not None
    assert config.lr_schedule.name == "cosine_decay" and config.lr_schedule.warmup > 0
    assert (config.save_every, config.steps_per_eval, config.probe_examples) == (320, 320, 64)
    assert config.updates == 250


def test_phase33_config_file_keeps_the_seed_recipe() -> None:
    """configs/phase33.yaml: 800 iterations of 1 x 4, lr 1e-4, full chats, per-token loss."""
    config = load_config(Path(__file__).parents[2] / "configs" / "phase33.yaml")
    assert (config.iters, config.grad_accumulation_steps, config.learning_rate) == (800, 4, 1e-4)
    assert (config.call_examples, config.loss_weighting, config.balance) == (
        "none",
        "token",
        "none",
    )
    assert (config.call_weight, config.name_weight) == (1.0, 1.0)
    assert config.lora_parameters == LoraParameters(rank=8, scale=20.0, dropout=0.0)
    assert config.updates == 200


def test_yaml_overrides_defaults(tmp_path: Path) -> None:
    """mlx-lm keys in a YAML file replace the defaults, nested mappings merged."""
    path = write(
        tmp_path,
        "iters: 20\nlearning_rate: 3e-4\nlora_parameters: {rank: 4}\n"
        "lr_schedule: {name: cosine_decay, warmup: 2, arguments: [3e-4, 3, 0.0]}\n",
    )
    config = load_config(path)
    assert config.iters == 20 and config.learning_rate == 3e-4
    assert config.lora_parameters == LoraParameters(rank=4, scale=20.0, dropout=0.0)
    assert config.lr_schedule == LrSchedule(arguments=(3e-4, 3.0, 0.0), warmup=2)


def test_cli_overrides_yaml(tmp_path: Path) -> None:
    """Flags beat the file, the file beats the defaults, untouched keys keep their value."""
    path = write(tmp_path, "iters: 20\nbatch_size: 2\nlora_parameters: {rank: 4, scale: 10}\n")
    config = parse(["--iters", "30", "--lora-rank", "16", "--no-mask-prompt"], path)
    assert config.iters == 30 and config.batch_size == 2
    assert config.lora_parameters == LoraParameters(rank=16, scale=10.0, dropout=0.0)
    assert not config.mask_prompt
    assert config.grad_accumulation_steps == 8


def test_cli_can_disable_the_schedule() -> None:
    """--lr-schedule none gives a constant learning rate."""
    assert parse(["--lr-schedule", "none"]).lr_schedule is None


def test_unknown_key_names_key_and_file(tmp_path: Path) -> None:
    """A key mlx-lm does not define is an error naming it and the file."""
    path = write(tmp_path, "iters: 5\nlora_rank: 4\n")
    with pytest.raises(ConfigError, match=r"train\.yaml: unknown key 'lora_rank'"):
        load_config(path)


def test_unknown_nested_key_is_named_with_its_parent(tmp_path: Path) -> None:
    """mlx-lm's LoRA takes 'scale', not 'alpha': the dotted key is named."""
    path = write(tmp_path, "lora_parameters: {rank: 4, alpha: 16}\n")
    with pytest.raises(ConfigError, match=r"unknown key 'lora_parameters\.alpha'"):
        load_config(path)


def test_unsupported_mlx_key_is_explained(tmp_path: Path) -> None:
    """mlx-lm keys punie_train does not implement are refused by name, not ignored."""
    path = write(tmp_path, "report_to: wandb\n")
    with pytest.raises(ConfigError, match="mlx-lm option punie_train does not support"):
        load_config(path)


def test_wrong_type_is_an_error(tmp_path: Path) -> None:
    """A value of the wrong type names the key."""
    path = write(tmp_path, "iters: many\n")
    with pytest.raises(ConfigError, match=r"iters should be int"):
        load_config(path)


def test_invalid_value_is_an_error() -> None:
    """Out-of-range values are refused with the field's name."""
    with pytest.raises(ConfigError, match="grad_accumulation_steps"):
        parse(["--grad-accumulation-steps", "0"])
    with pytest.raises(ConfigError, match=r"request_dropout must be in \[0, 1\), got 1.0"):
        parse(["--request-dropout", "1"])
    with pytest.raises(ConfigError, match="later_call_repeat must be at least 1, got 0"):
        parse(["--later-call-repeat", "0"])
    with pytest.raises(ConfigError, match=r"max_grad_norm must be >= 0 \(0: off\), got -1.0"):
        parse(["--max-grad-norm", "-1"])


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    """A config path that does not exist is a ConfigError, not a traceback."""
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "nope.yaml")


def test_every_knob_has_a_flag_with_help() -> None:
    """--help documents every field (nested ones too) except YAML-only mappings."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    documented = {a.dest: a.help for a in parser._actions if a.dest != "help"}
    expected = {f.name for f in attrs.fields(TrainConfig) if f.metadata.get("cli", True)} - {
        "lora_parameters",
        "lr_schedule",
    }
    expected |= {f"lora_parameters.{f.name}" for f in attrs.fields(LoraParameters)}
    expected |= {f"lr_schedule.{f.name}" for f in attrs.fields(LrSchedule)}
    assert set(documented) == expected
    assert all(documented.values())


@given(
    iters=st.integers(1, 5000),
    accumulation=st.integers(1, 16),
    rank=st.integers(1, 64),
    learning_rate=st.floats(1e-6, 1e-2),
    warmup=st.integers(0, 50),
    mask_prompt=st.booleans(),
)
def test_resolved_yaml_round_trips(
    iters: int, accumulation: int, rank: int, learning_rate: float, warmup: int, mask_prompt: bool
) -> None:
    """The YAML a run writes loads back to the same knobs (schedule arguments made explicit)."""
    import tempfile

    config = TrainConfig(
        iters=iters,
        grad_accumulation_steps=accumulation,
        learning_rate=learning_rate,
        mask_prompt=mask_prompt,
        lora_parameters=LoraParameters(rank=rank),
        lr_schedule=LrSchedule(warmup=warmup),
    )
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "config.yaml"
        path.write_text(config.to_yaml())
        loaded = load_config(path)
    assert loaded.schedule_arguments() == config.schedule_arguments()
    assert attrs.evolve(loaded, lr_schedule=config.lr_schedule) == config
