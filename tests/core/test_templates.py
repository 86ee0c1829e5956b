"""templates_in: a package's templates/*.jinja, found with importlib.resources."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from punie_tools import templates_in


def test_templates_in_loads_the_package_templates_sorted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only ``*.jinja`` files, by name; each runs on the fixture and draws from the pools."""
    package = tmp_path / "demo_templates_pkg"
    (package / "templates").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "templates" / "b_second.jinja").write_text("B")
    (package / "templates" / "a_first.jinja").write_text("A")
    (package / "templates" / "notes.txt").write_text("not a template")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "demo_templates_pkg", raising=False)

    templates = templates_in("demo_templates_pkg", "notes", {"files": ["a.txt"]})

    assert [(t.name, t.source, t.fixture) for t in templates] == [
        ("a_first", "A", "notes"),
        ("b_second", "B", "notes"),
    ]
    assert all(dict(t.context) == {"files": ["a.txt"]} for t in templates)
    assert all(dict(t.context) == {} for t in templates_in("demo_templates_pkg", "notes"))
