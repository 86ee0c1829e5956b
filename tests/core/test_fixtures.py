"""Tests for fixture copies: setup runs once per process, every copy is fresh and complete."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from punie_tools.fixtures import Fixture


def _source(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    (source / "pkg").mkdir(parents=True)
    (source / "pkg" / "a.txt").write_text("alpha\n")
    return source


def test_setup_runs_once_and_each_copy_is_fresh(tmp_path: Path) -> None:
    """Three copies: one setup run, each copy has its output, a change to one stays there."""
    calls: list[Path] = []

    def setup(root: Path) -> None:
        calls.append(root)
        (root / "made.txt").write_text("by setup\n")
        os.symlink("pkg/a.txt", root / "link.txt")

    fixture = Fixture("demo", _source(tmp_path), setup=setup)
    first = fixture.materialize(tmp_path / "one")
    (first / "made.txt").write_text("changed in the first copy\n")
    (first / "pkg" / "a.txt").unlink()
    copies = [fixture.materialize(tmp_path / name) for name in ("two", "three")]
    assert len(calls) == 1
    assert first == tmp_path / "one" / "demo"
    for copy in copies:
        assert (copy / "made.txt").read_text() == "by setup\n"
        assert (copy / "pkg" / "a.txt").read_text() == "alpha\n"
        assert (copy / "link.txt").is_symlink()
    assert not calls[0].is_relative_to(tmp_path)  # setup ran on a private copy


def test_a_changed_fixture_is_prepared_again(tmp_path: Path) -> None:
    """Editing the fixture's files makes the next copy run setup on the new contents."""
    seen: list[str] = []

    def setup(root: Path) -> None:
        seen.append((root / "pkg" / "a.txt").read_text())

    source = _source(tmp_path)
    fixture = Fixture("edited", source, setup=setup)
    fixture.materialize(tmp_path / "one")
    (source / "pkg" / "a.txt").write_text("beta, longer\n")
    copy = fixture.materialize(tmp_path / "two")
    assert seen == ["alpha\n", "beta, longer\n"]
    assert (copy / "pkg" / "a.txt").read_text() == "beta, longer\n"


def test_a_failing_setup_fails_every_copy(tmp_path: Path) -> None:
    """A setup that raises is not remembered as prepared: each copy raises it again."""
    runs: list[int] = []

    def setup(root: Path) -> None:
        runs.append(1)
        raise RuntimeError("setup exploded")

    fixture = Fixture("broken", _source(tmp_path), setup=setup)
    for name in ("one", "two"):
        with pytest.raises(RuntimeError, match="setup exploded"):
            fixture.materialize(tmp_path / name)
    assert len(runs) == 2


def test_missing_fixture_directory_is_named(tmp_path: Path) -> None:
    """A fixture whose directory is gone says which fixture and path."""
    with pytest.raises(FileNotFoundError, match="fixture 'gone'"):
        Fixture("gone", tmp_path / "nowhere").materialize(tmp_path / "out")
