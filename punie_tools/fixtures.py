"""Fixture workspaces that plugins declare for their templates and eval queries."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import attrs


@attrs.frozen
class Fixture:
    """A directory copied fresh for each session, then prepared by ``setup``.

    ``setup`` runs on the copy (for example to create git history from a script), so
    nothing generated is committed and the original is never modified.
    """

    name: str
    path: Path = attrs.field(converter=Path)
    setup: Callable[[Path], None] | None = attrs.field(default=None, eq=False, hash=False)

    def materialize(self, dest: Path) -> Path:
        """Copy the fixture into ``dest/<name>``, run its setup and return the copy."""
        if not self.path.is_dir():
            raise FileNotFoundError(f"fixture {self.name!r}: {self.path} is not a directory")
        target = Path(dest) / self.name
        shutil.copytree(
            self.path, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ruff_cache")
        )
        if self.setup is not None:
            self.setup(target)
        return target
