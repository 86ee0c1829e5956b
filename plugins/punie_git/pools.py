"""What the git templates draw from: nothing but the sample_project fixture's history.

The working tree's changes and the commits come from the fixture's ``setup()`` (in
punie_validation); counts and phrasings are drawn inline, so there are no pools.
"""

from __future__ import annotations

FIXTURE = "sample_project"


def pools() -> dict[str, object]:
    """The Jinja context of the git templates (empty)."""
    return {}
