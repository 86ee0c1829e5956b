"""Workspace path resolution and per-session resources."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from punie_tools import Workspace, WorkspaceError


@pytest.fixture(name="workspace")
def fixture_workspace(tmp_path: Path) -> Workspace:
    """A workspace with a sub-directory."""
    (tmp_path / "src").mkdir()
    return Workspace(tmp_path)


def test_relative_paths_resolve_inside(workspace: Workspace) -> None:
    """Relative paths, including ones with harmless `..`, resolve inside the root."""
    assert workspace.resolve("src/../src/a.py") == workspace.root / "src" / "a.py"
    assert workspace.resolve(".") == workspace.root


@given(st.lists(st.sampled_from(["..", "a", ".", "b"]), min_size=1, max_size=8))
def test_no_path_escapes(parts: list[str]) -> None:
    """Any mix of `..` segments either stays inside or raises WorkspaceError."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(tmp)
        try:
            resolved = ws.resolve("/".join(parts))
        except WorkspaceError:
            return
        assert resolved == ws.root or ws.root in resolved.parents


def test_resources_are_closed_once(workspace: Workspace) -> None:
    """A resource is created lazily, reused, and closed with the workspace."""
    closed: list[int] = []

    class Server:
        def close(self) -> None:
            closed.append(1)

    with workspace:
        first = workspace.resource("server", Server)
        assert workspace.resource("server", Server) is first
    assert closed == [1]
