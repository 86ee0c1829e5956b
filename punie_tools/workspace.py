"""The directory a session works in, and the guard that keeps paths inside it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self, TypeVar

T = TypeVar("T")


class WorkspaceError(ValueError):
    """A path argument points outside the workspace or cannot be used."""


class Workspace:
    """The root a session works in; every path argument resolves inside it.

    Also holds per-session resources (such as a language server) created lazily by
    tools and closed with the workspace.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        root_path = Path(root)
        if not root_path.is_dir():
            raise WorkspaceError(f"workspace {root_path} is not a directory")
        self.root = root_path.resolve()
        self._resources: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r}, resources={sorted(self._resources)})"

    def resolve(self, path: str | os.PathLike[str]) -> Path:
        """Return the absolute path of ``path`` inside the workspace.

        Raises WorkspaceError for absolute paths, ``..`` that climbs out, and symlinks
        whose target lies outside the workspace.
        """
        text = os.fspath(path)
        if not isinstance(text, str) or "\x00" in text:
            raise WorkspaceError(f"invalid path {text!r}")
        candidate = Path(text)
        if candidate.is_absolute():
            try:
                candidate = candidate.resolve().relative_to(self.root)
            except ValueError:
                raise WorkspaceError(
                    f"path {text!r} is outside the workspace; use a path relative to the "
                    "workspace root"
                ) from None
        resolved = (self.root / candidate).resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise WorkspaceError(f"path {text!r} leaves the workspace")
        return resolved

    def relative(self, path: str | os.PathLike[str]) -> str:
        """The workspace-relative posix form of an absolute path inside the workspace."""
        p = Path(path)
        try:
            rel = p.resolve().relative_to(self.root)
        except ValueError:
            return p.as_posix()
        return rel.as_posix() or "."

    def resource(self, key: str, factory: Callable[[], T]) -> T:
        """The per-session object under ``key``, created by ``factory`` on first use."""
        if key not in self._resources:
            self._resources[key] = factory()
        return self._resources[key]

    def close(self) -> None:
        """Close every resource that has a ``close()`` method (errors are swallowed)."""
        resources, self._resources = self._resources, {}
        for value in reversed(list(resources.values())):
            close = getattr(value, "close", None)
            if callable(close):
                with contextlib.suppress(Exception):
                    close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
