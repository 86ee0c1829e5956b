"""Plugin discovery: entry points, drop-ins, broken plugins, clashes and allow/block lists."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from punie_tools import Registry, RegistryError, Sandbox, Workspace
from punie_tools.prompt import system_prompt
from tests.dropin import write_broken_plugin, write_shout_plugin


def test_dropin_tool_is_registered(dropin_path: Path) -> None:
    """A package on PUNIE_PLUGIN_PATH adds its tool, template, query and fixture."""
    registry = Registry.load()
    assert "shout" in registry
    assert registry.plugin_of("shout") == "punie_shout"
    assert [t.name for t in registry.templates() if t.plugin == "punie_shout"] == ["shout_file"]
    assert any(q.id == "loud-1" for q in registry.eval_queries())
    assert "shout_files" in registry.fixtures()


def test_dropin_tool_appears_in_prompt_and_runs(dropin_path: Path) -> None:
    """The drop-in tool shows in system_prompt() and runs in the sandbox, no other change."""
    registry = Registry.load()
    assert "loud: shout(path)" in system_prompt(registry)
    with tempfile.TemporaryDirectory() as tmp:
        copy = registry.fixture("shout_files").materialize(Path(tmp))
        with Workspace(copy) as ws:
            result = Sandbox(registry.tools(), ws).run('print(shout("a.txt").text)')
    assert result.reply == "HELLO"


def test_broken_dropin_is_reported_and_others_load(dropin_path: Path) -> None:
    """A drop-in that raises on import is reported by name; the rest still load."""
    write_broken_plugin(dropin_path)
    registry = Registry.load()
    assert "shout" in registry
    [error] = [e for e in registry.errors if e.plugin == "punie_broken"]
    assert "this plugin is broken on purpose" in error.error


def test_bad_specs_are_reported(tmp_path: Path) -> None:
    """A hook returning the wrong type is reported with the plugin's name."""
    (tmp_path / "punie_bad.py").write_text(
        "from punie_tools import hookimpl\n"
        "@hookimpl\ndef punie_tools():\n    return ['not a spec']\n"
    )
    registry = Registry.load(entry_points=False, plugin_path=str(tmp_path))
    [error] = registry.errors
    assert error.plugin == "punie_bad"
    assert "must return a list of ToolSpec" in error.error


def test_duplicate_tool_names_name_both_plugins(tmp_path: Path) -> None:
    """Two plugins defining one tool name is an error naming both."""
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    write_shout_plugin(first)
    pkg = write_shout_plugin(second)
    pkg.rename(second / "punie_shout_again")
    with pytest.raises(RegistryError, match=r"punie_shout.*punie_shout_again"):
        Registry.load(entry_points=False, plugin_path=f"{first}:{second}")


def test_block_and_allow_lists(dropin_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PUNIE_DISABLED_PLUGINS blocks a plugin; PUNIE_LOAD_PLUGINS loads only those named."""
    monkeypatch.setenv("PUNIE_DISABLED_PLUGINS", "punie_shout")
    assert "shout" not in Registry.load()
    monkeypatch.delenv("PUNIE_DISABLED_PLUGINS")
    monkeypatch.setenv("PUNIE_LOAD_PLUGINS", "punie_shout")
    registry = Registry.load()
    assert registry.plugin_names() == ["punie_shout"]


def test_missing_plugin_dir_is_reported(tmp_path: Path) -> None:
    """A PUNIE_PLUGIN_PATH entry that is not a directory is reported, not fatal."""
    registry = Registry.load(entry_points=False, plugin_path=str(tmp_path / "nope"))
    assert "not a directory" in registry.errors[0].error


def test_cli_tools_json_lists_dropin(dropin_path: Path) -> None:
    """`python -m punie_tools tools --json` lists tools with category, signature, plugin."""
    out = subprocess.run(
        [sys.executable, "-m", "punie_tools", "tools", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert rows["shout"]["category"] == "loud"
    assert rows["shout"]["signature"] == "shout(path: str) -> ShoutResult"
    assert rows["shout"]["plugin"] == "punie_shout"


def test_cli_exec_runs_code(dropin_path: Path, tmp_path: Path) -> None:
    """`python -m punie_tools exec` prints the Code Mode reply."""
    (tmp_path / "a.txt").write_text("hi")
    out = subprocess.run(
        [sys.executable, "-m", "punie_tools", "exec", "--workspace", str(tmp_path), "-"],
        input='print(shout("a.txt").text)',
        capture_output=True,
        text=True,
    )
    assert out.stdout.strip() == "HI"
    assert out.returncode == 0


def test_cli_exec_bad_workspace_is_clear(tmp_path: Path) -> None:
    """A missing workspace gives a one-line error, not a traceback."""
    out = subprocess.run(
        [sys.executable, "-m", "punie_tools", "exec", "--workspace", str(tmp_path / "x"), "1"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "is not a directory" in out.stderr
    assert "Traceback" not in out.stderr
