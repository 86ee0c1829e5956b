"""What the language server has been told about the workspace's Python files."""

from __future__ import annotations

import os
from pathlib import Path

import attrs
from lsprotocol.types import FileChangeType

from punie_lsp.positions import split_lines

SKIP_DIRS = frozenset({"__pycache__", "node_modules", "venv", "build", "dist", "site-packages"})
SUFFIXES = (".py", ".pyi")
MAX_FILES = 20_000

Stamp = tuple[int, int]


@attrs.define
class Document:
    """A file opened on the server with the text and version it was last sent."""

    path: Path
    text: str
    version: int = 1


def read_source(path: Path) -> str:
    """A Python file's text; OSError or UnicodeDecodeError if it cannot be read."""
    return path.read_text(encoding="utf-8")


class SourceFiles:
    """Opened documents and the size/mtime of every Python file, to find what changed.

    Other tools (and the user) edit files during a session; the server must see those edits
    or its answers go stale, so before each request changed open documents are re-sent and
    changes to other files are announced as watched-file events.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._open: dict[Path, Document] = {}
        self._stamps: dict[Path, Stamp] = {}

    def __contains__(self, path: object) -> bool:
        return path in self._open

    def snapshot(self) -> None:
        """Record the current state of the workspace's Python files."""
        self._stamps = self._scan()

    def refresh(
        self, path: Path | None
    ) -> tuple[list[Document], list[Document], list[tuple[Path, FileChangeType]]]:
        """Documents to open, open documents whose text changed, and file events for the rest."""
        stamps = self._scan()
        opened: list[Document] = []
        changed: list[Document] = []
        events: list[tuple[Path, FileChangeType]] = []
        for p in stamps.keys() - self._stamps.keys():
            events.append((p, FileChangeType.Created))
        for p in self._stamps.keys() - stamps.keys():
            events.append((p, FileChangeType.Deleted))
        for p, stamp in stamps.items():
            old = self._stamps.get(p)
            if old is None or old == stamp:
                continue
            doc = self._open.get(p)
            if doc is None:
                events.append((p, FileChangeType.Changed))
                continue
            try:
                text = read_source(p)
            except (OSError, UnicodeDecodeError):
                continue
            if text != doc.text:
                doc.text = text
                doc.version += 1
                changed.append(doc)
        self._stamps = stamps
        if path is not None and path not in self._open:
            try:
                doc = Document(path, read_source(path))
            except (OSError, UnicodeDecodeError):
                pass
            else:
                self._open[path] = doc
                opened.append(doc)
        return opened, changed, sorted(events)

    def lines(self, path: Path) -> list[str] | None:
        """The lines of a file as the server sees it (open text, else disk); None if unreadable."""
        doc = self._open.get(path)
        if doc is not None:
            return split_lines(doc.text)
        try:
            return split_lines(read_source(path))
        except (OSError, UnicodeDecodeError, ValueError):
            return None

    def _scan(self) -> dict[Path, Stamp]:
        stamps: dict[Path, Stamp] = {}
        for folder, dirs, names in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
            for name in names:
                if not name.endswith(SUFFIXES):
                    continue
                p = Path(folder, name)
                try:
                    st = p.stat()
                except OSError:
                    continue
                stamps[p] = (st.st_mtime_ns, st.st_size)
                if len(stamps) >= MAX_FILES:
                    return stamps
        return stamps
