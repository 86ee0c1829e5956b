"""Files and directories that appear whole or not at all: written aside, fsynced, renamed.

A crash (even SIGKILL or a power cut after the rename) leaves either the old version or the
new one, never a mix: files are written to a temporary name in the same directory, flushed
to disk and renamed over the target; directories are built aside and swapped in with one
``renameat2(RENAME_EXCHANGE)`` where Linux offers it. Leftovers of a crash are dot-names
(``.<name>.<random>.tmp<suffix>``, ``.<name>.staging-<random>``) that readers never match.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def fsync_dir(directory: Path) -> None:
    """Make a directory's entries (renames, new and removed names) durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """Flush one file's bytes to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_path(path: Path) -> Path:
    """A fresh hidden name beside ``path`` keeping its suffix (writers that add one need it)."""
    fd, name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent
    )
    os.close(fd)
    return Path(name)


def write_with(path: Path, write: Callable[[Path], object]) -> Path:
    """Create or replace ``path`` with what ``write(temporary_path)`` writes; returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = temp_path(path)
    try:
        write(staged)
        os.chmod(staged, 0o666 & ~_umask())  # mkstemp makes 0600; these are ordinary files
        fsync_file(staged)
        os.replace(staged, path)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def write_text(path: Path, text: str) -> Path:
    """Create or replace a UTF-8 text file (``\\n`` line ends) atomically."""
    return write_with(path, lambda p: p.write_text(text, encoding="utf-8", newline="\n"))


def write_bytes(path: Path, data: bytes) -> Path:
    """Create or replace a binary file atomically."""
    return write_with(path, lambda p: p.write_bytes(data))


def append_line(path: Path, line: str) -> None:
    """Append one line with a single write and flush it to disk (a crash tears at most it)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, (line.rstrip("\n") + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def staging_dir(final: Path) -> Path:
    """A new empty hidden directory beside ``final`` to build its next version in."""
    final.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{final.name}.staging-", dir=final.parent))


def remove_stale(final: Path) -> None:
    """Remove what crashed writers of ``final`` left beside it (staging dirs, temp files).

    Only call this while holding the right to write ``final`` (the run lock).
    """
    if not final.parent.is_dir():
        return
    for leftover in final.parent.glob(f".{final.name}.*"):
        if leftover.name.startswith(f".{final.name}.staging-") or ".tmp" in leftover.name:
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)


def replace_dir(staging: Path, final: Path) -> None:
    """Put the finished directory ``staging`` at ``final``, replacing what was there.

    Every file in ``staging`` is flushed first. With ``renameat2`` the two are exchanged in
    one step, so ``final`` is always a complete directory; elsewhere the old one is renamed
    away first (a crash between the two renames leaves no ``final``, never a partial one).
    The old version ends up in ``staging``'s place and is removed.
    """
    for file in sorted(staging.rglob("*")):
        if file.is_file():
            fsync_file(file)
    fsync_dir(staging)
    if not final.exists():
        os.rename(staging, final)
    elif not _exchange(staging, final):
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.staging-", dir=final.parent))
        os.rename(final, old / "old")
        os.rename(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(final.parent)
    shutil.rmtree(staging, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with Linux's renameat2; False where it is unavailable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: the filesystem cannot exchange
        return False
    raise OSError(errno, os.strerror(errno), str(a), None, str(b))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
