"""Which dataset ``python -m punie_train`` reads, and the only one it builds (the default)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import cast

import pytest
from rich.console import Console

from punie_datagen.jsonl import sha256_file
from punie_datagen.manifest import inputs_sha256
from punie_datagen.output import BUILDING
from punie_tools import Registry
from punie_train import run_data as run_module
from punie_train.cli import main
from punie_train.config import TrainConfig
from punie_train.run_data import ensure_data
from punie_train.run_options import UserError

DEFAULT = Path(TrainConfig().data)
NO_REGISTRY = cast(Registry, None)  # these calls never build, so never use it


@pytest.fixture(name="builds")
def fixture_builds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Path]:
    """Run in an empty folder; record (and fake) every dataset build instead of running it."""
    monkeypatch.chdir(tmp_path)
    built: list[Path] = []

    def fake_build(data: Path, *_: object) -> None:
        built.append(data)
        data.mkdir(parents=True, exist_ok=True)
        for name in ("train.jsonl", "valid.jsonl"):
            (data / name).write_text("{}\n")

    monkeypatch.setattr(run_module, "build_data", fake_build)
    return built


def ensure(data: Path) -> tuple[Path, str]:
    """ensure_data with a captured console."""
    out = io.StringIO()
    found = ensure_data(data, TrainConfig(data=str(data)), NO_REGISTRY, Console(file=out))
    return found, out.getvalue()


def test_missing_default_data_is_built(builds: list[Path]) -> None:
    """The default data folder is built when it is missing."""
    assert ensure(DEFAULT)[0] == DEFAULT
    assert builds == [DEFAULT]


@pytest.mark.parametrize("exists", [False, True], ids=["missing", "empty"])
def test_explicit_data_that_does_not_exist_is_an_error(
    builds: list[Path], tmp_path: Path, exists: bool
) -> None:
    """--data naming a missing or empty folder is an error naming the build command."""
    data = tmp_path / "nonexistent"
    if exists:
        data.mkdir()
    with pytest.raises(UserError) as error:
        ensure(data)
    message = str(error.value)
    assert f"python -m punie_datagen --out {data}" in message
    assert builds == [] and data.exists() == exists


def test_interrupted_build_is_rebuilt_only_at_the_default_path(
    builds: list[Path], tmp_path: Path
) -> None:
    """A folder a killed punie_datagen left: the default is built again, --data is refused."""
    for data in (DEFAULT, tmp_path / "mine"):
        data.mkdir(parents=True)
        (data / "train.jsonl").write_text("{}\n")
        (data / BUILDING).write_text("punie_datagen build, pid 1\n")
    _, printed = ensure(DEFAULT)
    assert builds == [DEFAULT] and "interrupted punie_datagen build" in printed
    with pytest.raises(UserError, match="interrupted punie_datagen build"):
        ensure(tmp_path / "mine")


def test_files_that_do_not_match_the_manifest_are_refused(
    builds: list[Path], tmp_path: Path
) -> None:
    """A train.jsonl changed after its manifest was written is not read as that dataset."""
    data = tmp_path / "data"
    data.mkdir()
    for name in ("train.jsonl", "valid.jsonl"):
        (data / name).write_text("{}\n")
    files = {n: {"sha256": "0" * 64} for n in ("train.jsonl", "valid.jsonl")}
    (data / "manifest.json").write_text(json.dumps({"files": files}))
    with pytest.raises(UserError, match="does not match its sha256"):
        ensure(data)
    assert builds == []


def _dataset_with_inputs(data: Path, inputs: str) -> None:
    """A complete dataset folder whose manifest says it was built from ``inputs`` (empty: a
    manifest from before the hash)."""
    data.mkdir(parents=True)
    for name in ("train.jsonl", "valid.jsonl"):
        (data / name).write_text("{}\n")
    files = {n: {"sha256": sha256_file(data / n)} for n in ("train.jsonl", "valid.jsonl")}
    manifest: dict[str, object] = {"files": files}
    if inputs:
        manifest["inputs_sha256"] = inputs
    (data / "manifest.json").write_text(json.dumps(manifest))


def test_data_built_from_other_templates_is_rebuilt_at_the_default_path(
    builds: list[Path], tmp_path: Path
) -> None:
    """A template changed since the default data was built: it is built again; --data is
    used as asked, with a warning; data matching today's plugins is used as it is."""
    registry = Registry.load()
    for data in (DEFAULT, tmp_path / "mine"):
        _dataset_with_inputs(data, "0" * 64)
    printed = io.StringIO()
    assert ensure_data(DEFAULT, TrainConfig(), registry, Console(file=printed)) == DEFAULT
    assert builds == [DEFAULT] and "built from other templates" in printed.getvalue()
    mine = tmp_path / "mine"
    printed = io.StringIO()
    assert ensure_data(mine, TrainConfig(data=str(mine)), registry, Console(file=printed)) == mine
    assert builds == [DEFAULT] and "training on it as asked" in printed.getvalue()
    old = tmp_path / "old"  # a manifest from before the hash: judged only at the default path
    _dataset_with_inputs(old, "")
    printed = io.StringIO()
    assert ensure_data(old, TrainConfig(data=str(old)), registry, Console(file=printed)) == old
    assert builds == [DEFAULT] and printed.getvalue() == ""
    current = tmp_path / "current"
    _dataset_with_inputs(current, inputs_sha256(registry))
    printed = io.StringIO()
    ensure_data(current, TrainConfig(data=str(current)), registry, Console(file=printed))
    assert printed.getvalue() == ""


def test_default_data_from_before_the_inputs_hash_is_rebuilt(builds: list[Path]) -> None:
    """A default dataset whose manifest predates ``inputs_sha256`` is built again."""
    _dataset_with_inputs(DEFAULT, "")
    printed = io.StringIO()
    ensure_data(DEFAULT, TrainConfig(), Registry.load(), Console(file=printed))
    assert builds == [DEFAULT] and "before its manifest recorded" in printed.getvalue()


def test_cli_with_missing_data_exits_2_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's case: ``--data /nonexistent --skip-eval`` builds nothing anywhere."""
    data = tmp_path / "nonexistent"
    args = ["--data", str(data), "--skip-eval", "--run-dir", str(tmp_path / "run")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"--data {data} does not exist: build it with python -m punie_datagen" in err
    assert "Traceback" not in err
    assert not data.exists()
