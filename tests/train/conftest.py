"""Fixtures for the punie_train tests: a tiny random llama model and chats to train on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.train.tiny import build_model_dir, chats


@pytest.fixture(name="tiny_model_dir", scope="session")
def fixture_tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An mlx-lm directory with a 4-layer, hidden-64 random llama and a ChatML tokenizer."""
    return build_model_dir(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(name="tiny")
def fixture_tiny(tiny_model_dir: Path) -> tuple[Any, Any]:
    """A fresh (model, tokenizer) pair loaded with mlx-lm from the tiny model directory."""
    from mlx_lm import load

    loaded: Any = load(str(tiny_model_dir))
    return loaded[0], loaded[1]


@pytest.fixture(name="tiny_chats")
def fixture_tiny_chats() -> list[list[dict[str, str]]]:
    """Twelve multi-turn chats sharing a system prompt."""
    return chats(12)


@pytest.fixture(name="numpy_every_size")
def fixture_numpy_every_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test arrays are small: take numpy_exp's (and parentless LoRA's) large-array path too."""
    from punie_runtime import numpy_exp

    monkeypatch.setattr(numpy_exp, "SMALL", 0)
