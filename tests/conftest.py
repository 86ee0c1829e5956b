"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from punie_runtime.blas import ensure_fast_blas
from tests.dropin import write_shout_plugin

# Before any test module imports mlx: OpenBLAS makes the float32 model tests ~15x faster.
ensure_fast_blas()


@pytest.fixture(name="dropin_path")
def fixture_dropin_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory on PUNIE_PLUGIN_PATH holding the ``punie_shout`` drop-in plugin."""
    directory = tmp_path / "dropins"
    directory.mkdir()
    write_shout_plugin(directory)
    monkeypatch.setenv("PUNIE_PLUGIN_PATH", str(directory))
    return directory
