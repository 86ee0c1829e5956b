"""Fixture workspaces that plugins declare for their templates and eval queries."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable
from multiprocessing.util import Finalize
from pathlib import Path

import attrs

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ruff_cache")
_prepared: dict[tuple[object, ...], Path] = {}
_prepared_lock = threading.Lock()
_prepared_root: Path | None = None


@attrs.frozen
class Fixture:
    """A directory copied fresh for each session, prepared by ``setup``.

    ``setup`` runs on a copy (for example to create git history from a script), so nothing
    generated is committed and the original is never modified. It runs once per process and
    fixture contents: each session then gets a copy of that prepared copy (the git history of
    the sample project took ~37% of a generated example's time when built for every copy), so
    ``setup`` must give the same files wherever the copy lives (no absolute paths in them).
    """

    name: str
    path: Path = attrs.field(converter=Path)
    setup: Callable[[Path], None] | None = attrs.field(default=None, eq=False, hash=False)

    def materialize(self, dest: Path) -> Path:
        """Copy the fixture, prepared by its setup, into ``dest/<name>``; return the copy."""
        if not self.path.is_dir():
            raise FileNotFoundError(f"fixture {self.name!r}: {self.path} is not a directory")
        target = Path(dest) / self.name
        source = self.path if self.setup is None else self._prepared()
        shutil.copytree(source, target, symlinks=True, ignore=_IGNORED)
        return target

    def _prepared(self) -> Path:
        """This process's copy of the fixture with its setup run (made on first use)."""
        assert self.setup is not None
        key = (self.name, str(self.path.resolve()), self.setup, _fingerprint(self.path))
        with _prepared_lock:
            ready = _prepared.get(key)
            if ready is not None and ready.is_dir():
                return ready
            work = Path(tempfile.mkdtemp(prefix=f"{self.name}-", dir=_root()))
            copy = work / self.name
            try:
                shutil.copytree(self.path, copy, ignore=_IGNORED)
                self.setup(copy)
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise
            _prepared[key] = copy
            return copy


def _fingerprint(path: Path) -> tuple[tuple[str, int, int], ...]:
    """Every file's relative path, size and modification time: a changed fixture is re-prepared."""
    files = sorted(p for p in path.rglob("*") if p.is_file())
    return tuple((str(p.relative_to(path)), *_stat(p)) for p in files)


def _stat(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def _root() -> Path:
    """The process's directory of prepared fixtures, removed when the process exits.

    A multiprocessing finalizer, not ``atexit``: worker processes end with ``os._exit``, which
    skips ``atexit`` but runs these.
    """
    global _prepared_root
    if _prepared_root is None or not _prepared_root.is_dir():
        _prepared_root = Path(tempfile.mkdtemp(prefix="punie-fixtures-"))
        Finalize(None, shutil.rmtree, args=(str(_prepared_root), True), exitpriority=0)
    return _prepared_root
