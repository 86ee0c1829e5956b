"""punie_validation: ty, ruff and pytest as tools, plus the shared ``sample_project`` fixture."""

from __future__ import annotations

from punie_tools import Fixture, hookimpl
from punie_validation.sample_project import FIXTURE_DIR, setup


@hookimpl
def punie_fixtures() -> list[Fixture]:
    """The sample_project fixture (an inventory package with scripted git history)."""
    return [Fixture("sample_project", FIXTURE_DIR, setup=setup)]
