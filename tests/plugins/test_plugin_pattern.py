"""Every plugin ships templates and pools one way: ``templates_in(__name__, FIXTURE, pools())``.

The templates are the package's ``templates/*.jinja``; ``pools.py`` names the fixture they run
on (``FIXTURE``) and returns what they draw from (``pools()``).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from punie_tools import templates_in

PLUGINS_DIR = Path(__file__).resolve().parents[2] / "plugins"
WITH_TEMPLATES = sorted(p.name for p in PLUGINS_DIR.iterdir() if (p / "templates").is_dir())


def test_the_plugins_with_templates() -> None:
    """The eight category plugins ship templates (punie_domain_common is a library)."""
    assert WITH_TEMPLATES == [
        "punie_cst",
        "punie_git",
        "punie_lsp",
        "punie_svcs",
        "punie_tdom",
        "punie_tdom_svcs",
        "punie_text",
        "punie_validation",
    ]


@pytest.mark.parametrize("package", WITH_TEMPLATES)
def test_templates_come_from_templates_in_with_the_pools_module(package: str) -> None:
    """The hook returns exactly the package's templates, its FIXTURE and its pools()."""
    plugin = importlib.import_module(package)
    pools = importlib.import_module(f"{package}.pools")
    got = plugin.punie_example_templates()
    want = templates_in(package, pools.FIXTURE, pools.pools())
    assert got
    assert got == want
    assert [dict(t.context) for t in got] == [dict(t.context) for t in want]
    assert {t.fixture for t in got} == {pools.FIXTURE}
