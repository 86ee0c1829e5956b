"""Tests of the engine choice (`punie_runtime.engines`): auto, mlx, llama and clear errors."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import pytest

from punie_runtime import engines
from punie_runtime.base_model import BaseModel, BaseModelError, embedded_gguf_path
from punie_runtime.engines import Engine, adapter_gguf, base_gguf_file, choose_engine
from punie_train.cli import main


def _without_llama(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import llama_cpp`` fail as on a machine without the optional extra."""
    real = importlib.import_module

    def fake_import(name: str, package: str | None = None) -> Any:
        if name == "llama_cpp":
            raise ImportError("No module named 'llama_cpp'")
        return real(name, package)

    monkeypatch.setattr(engines.importlib, "import_module", fake_import)


def test_auto_is_numpy_without_llama_cpp(monkeypatch: pytest.MonkeyPatch) -> None:
    """auto falls back to numpy; asking for llama.cpp explicitly says how to install it."""
    _without_llama(monkeypatch)
    assert choose_engine("auto") == Engine("numpy")
    assert choose_engine("auto", model=BaseModel.embedded()) == Engine("numpy")
    assert choose_engine("numpy").describe() == "numpy (float32)"
    assert choose_engine("mlx").describe() == "mlx (float32)"
    with pytest.raises(ValueError, match="pip install 'llama-cpp-python"):
        choose_engine("llama")


def test_auto_is_llama_when_installed() -> None:
    """With llama-cpp-python importable, auto answers with llama.cpp from a Q8_0 GGUF."""
    pytest.importorskip("llama_cpp")
    engine = choose_engine("auto")
    assert engine.name == "llama" and engine.gguf_type == "q8_0"
    assert "q8_0 GGUF" in engine.describe(Path("adapter"))
    assert "base GGUF" in engine.describe(None)


def test_a_llama_build_that_crashes_here_is_never_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    """When llama.cpp cannot run a batch on this CPU, auto is mlx and llama says how to fix it."""
    pytest.importorskip("llama_cpp")
    monkeypatch.setattr(engines, "_batch_runs", lambda: False)
    assert choose_engine("auto") == Engine("numpy")
    with pytest.raises(ValueError, match="crashes on this machine: rebuild it without AMX"):
        choose_engine("llama")


def test_the_installed_llama_build_runs_a_batch() -> None:
    """The child-process probe passes for a working build (this machine's, when installed)."""
    pytest.importorskip("llama_cpp")
    assert engines.llama_runs()


def test_unknown_engine_is_one_line() -> None:
    """A name that is not an engine lists the ones there are."""
    expected = "unknown engine 'vllm': choose one of auto, mlx, numpy, llama"
    with pytest.raises(ValueError, match=expected):
        choose_engine("vllm")


def test_numpy_only_for_llama_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A model of another architecture gets mlx from auto and one line from --engine numpy."""
    _without_llama(monkeypatch)
    (tmp_path / "config.json").write_text('{"model_type": "qwen2"}')
    other = BaseModel("directory", str(tmp_path))
    assert choose_engine("auto", model=other) == Engine("mlx")
    with pytest.raises(ValueError, match=r"runs llama-family models, not .*: use --engine mlx"):
        choose_engine("numpy", model=other)
    (tmp_path / "config.json").write_text('{"model_type": "llama"}')
    assert choose_engine("auto", model=other) == Engine("numpy")


def test_base_gguf_file(tmp_path: Path) -> None:
    """llama.cpp runs a base model from its GGUF; an mlx-lm directory has none."""
    assert base_gguf_file(BaseModel.embedded()) == embedded_gguf_path()
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(BaseModelError, match="use --engine mlx"):
        base_gguf_file(BaseModel("directory", str(tmp_path)))


def test_adapter_gguf_is_exported_once_and_again_when_the_adapter_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fused GGUF is kept beside the adapter and rebuilt only after the adapter changes."""
    from punie_runtime import gguf_export

    exports: list[tuple[Path, Path, str]] = []

    def record(out: Path, adapter: Path, out_type: str = "q8_0") -> None:
        exports.append((out, adapter, out_type))
        out.write_bytes(b"GGUF")

    monkeypatch.setattr(gguf_export, "export_gguf", record)
    weights = tmp_path / gguf_export.ADAPTER_WEIGHTS
    weights.write_bytes(b"w")
    os.utime(weights, (1_000, 1_000))
    path = adapter_gguf(tmp_path, "q8_0")
    assert path == tmp_path / "fused-q8_0.gguf" and len(exports) == 1
    assert adapter_gguf(tmp_path, "q8_0") == path and len(exports) == 1
    os.utime(weights, None)  # newer than the exported file
    os.utime(path, (2_000, 2_000))
    adapter_gguf(tmp_path, "q8_0")
    assert len(exports) == 2 and exports[-1] == (path, tmp_path, "q8_0")


def test_run_with_llama_engine_but_no_llama_cpp(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``python -m punie_train --engine llama`` without llama-cpp-python: one line, status 2."""
    _without_llama(monkeypatch)
    assert main(["--engine", "llama", "--skip-train", "--adapter", "nowhere"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "pip install 'llama-cpp-python" in err
