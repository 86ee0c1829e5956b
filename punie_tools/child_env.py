"""The environment of a program a tool starts on a workspace (a type checker, a language server).

Ours, minus the variables that would make it read our code or settings instead of the
workspace's: with a checkout's root on PYTHONPATH, ty resolved a fixture's `tests.conftest` to
that checkout's own tests package (8 errors instead of 1, a reference missed in another file).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

DROPPED_ENV = (
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
    "PYTEST_CURRENT_TEST",
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
)
"""Variables that would change what the child programs do or print."""


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child program: ours, minus settings that would skew its output."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env.update({"NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"})
    env.update(extra or {})
    return env
