"""The sample_project fixture: a real package with the planted facts and scripted git history."""

from __future__ import annotations

import ast
import hashlib
import subprocess
from pathlib import Path

import pytest
from punie_validation.sample_project import FIXTURE_DIR, HEAD_COMMIT

from punie_tools import Registry
from tests.plugins.sample import materialize


def git(copy: Path, *args: str) -> str:
    """Run git in a copy and return its stdout."""
    return subprocess.run(
        ["git", *args], cwd=copy, capture_output=True, text=True, check=True
    ).stdout


def tree_digest(root: Path) -> str:
    """A digest of every file's path and content under root."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(name="copy", scope="module")
def fixture_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh copy of sample_project."""
    return materialize(tmp_path_factory.mktemp("sample"))


def test_registered_through_plugins() -> None:
    """The validation and cst plugins load from entry points and declare sample_project."""
    registry = Registry.load()
    mine = [e for e in registry.errors if e.plugin in ("validation", "cst")]
    assert mine == []
    assert registry.fixture("sample_project").path == FIXTURE_DIR
    assert {"validation", "cst"} <= set(registry.plugin_names())
    tools = {s.name: s for s in registry.tools()}
    for name in ("typecheck", "ruff_check", "pytest_run", "cst_find_pattern", "cst_rename"):
        assert name in tools
    assert tools["cst_rename"].writes and not tools["cst_find_pattern"].writes


def test_history_has_commits_by_fixed_authors(copy: Path) -> None:
    """Four commits on main with fixed authors and dates, ending at HEAD_COMMIT."""
    log = git(copy, "log", "--format=%H|%an|%aI|%s").splitlines()
    assert len(log) == 4
    assert log[0].split("|") == [
        HEAD_COMMIT,
        "Grace Hopper",
        "2025-03-07T16:25:00+01:00",
        "Show formatted prices in order summaries",
    ]
    assert log[-1].split("|")[1:3] == ["Ada Lovelace", "2025-03-03T09:15:00+01:00"]
    assert git(copy, "branch", "--show-current").strip() == "main"


def test_working_tree_state(copy: Path) -> None:
    """Two modified files, one staged new file and one untracked file."""
    status = sorted(git(copy, "status", "--porcelain").splitlines())
    assert status == [
        " M inventory/warehouse.py",
        " M tests/test_warehouse.py",
        "?? TODO.md",
        "A  CHANGELOG.md",
    ]
    assert "+    def low_stock(" in git(copy, "diff", "inventory/warehouse.py")


def test_history_is_reproducible(tmp_path: Path) -> None:
    """Materializing twice gives the same commit hashes."""
    first = git(materialize(tmp_path / "a"), "rev-parse", "HEAD").strip()
    second = git(materialize(tmp_path / "b"), "rev-parse", "HEAD").strip()
    assert first == second == HEAD_COMMIT


def test_repo_fixture_is_not_modified(tmp_path: Path) -> None:
    """Materializing copies the fixture; the directory in the repo stays as it was."""
    before = tree_digest(FIXTURE_DIR)
    materialize(tmp_path)
    assert tree_digest(FIXTURE_DIR) == before
    assert not (FIXTURE_DIR / ".git").exists()


def test_package_shape(copy: Path) -> None:
    """At least six modules, nested functions, and Product used from three other modules."""
    modules = sorted((copy / "inventory").glob("*.py"))
    assert len(modules) >= 6
    users = [
        m.name
        for m in modules
        if m.name != "models.py" and "Product" in m.read_text(encoding="utf-8")
    ]
    assert len(users) >= 3
    nested = 0
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                nested += sum(isinstance(n, ast.FunctionDef) for n in node.body)
    assert nested >= 3


def test_documented_lines(copy: Path) -> None:
    """The lines named in the setup module's docstring hold what it says."""
    models = (copy / "inventory/models.py").read_text().splitlines()
    assert models[18] == "class Product:"
    assert models[17] == "@dataclass(frozen=True)"
    assert (copy / "inventory/warehouse.py").read_text().splitlines()[22] == "class Warehouse:"
    pricing = (copy / "inventory/pricing.py").read_text().splitlines()
    assert pricing[29] == "    return round(amount, 2)"
