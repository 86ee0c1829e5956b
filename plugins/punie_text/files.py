"""read_file and write_file: text files inside the workspace."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from punie_tools import Workspace, WorkspaceError

MAX_READ_BYTES = 2_000_000


def read_file(path: str, *, workspace: Workspace) -> str:
    """Return the text of a file in the workspace.

    Args:
        path: File path relative to the workspace root.
    """
    target = _inside(workspace, path, "read")
    if not target.exists():
        raise FileNotFoundError(f"cannot read {path!r}: no such file in the workspace")
    if target.is_dir():
        raise IsADirectoryError(f"cannot read {path!r}: it is a directory")
    if not target.is_file():
        raise ValueError(f"cannot read {path!r}: it is not a regular file")
    size = target.stat().st_size
    if size > MAX_READ_BYTES:
        raise ValueError(
            f"cannot read {path!r}: it has {size} bytes, more than the {MAX_READ_BYTES} "
            "a read may return; search it with run_command('grep ...') instead"
        )
    data = target.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"cannot read {path!r}: it is not a UTF-8 text file") from None


def write_file(path: str, content: str, *, workspace: Workspace) -> str:
    """Write text to a file in the workspace, replacing it atomically; creates parent folders.

    Args:
        path: File path relative to the workspace root.
        content: The complete new text of the file.
    """
    target = _inside(workspace, path, "write")
    if target == workspace.root or target.is_dir():
        raise IsADirectoryError(f"cannot write {path!r}: it is a directory")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise NotADirectoryError(
            f"cannot write {path!r}: a parent of it is a file, not a folder"
        ) from None
    _atomic_write(target, content.encode("utf-8"))
    rel = workspace.relative(target)
    return f"Wrote {len(content)} characters ({len(content.splitlines())} lines) to {rel}"


def _inside(workspace: Workspace, path: str, verb: str) -> Path:
    """Resolve ``path`` in the workspace, refusing escapes with a message naming the action."""
    try:
        return workspace.resolve(path)
    except WorkspaceError as exc:
        raise PermissionError(f"cannot {verb} {path!r}: {exc}") from None


def _atomic_write(target: Path, data: bytes) -> None:
    """Write to a temporary file beside ``target``, then rename it over the target."""
    try:
        mode: int | None = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = None
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    # 0o666 lets the umask decide a new file's mode, as a plain open() would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
