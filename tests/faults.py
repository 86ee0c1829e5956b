"""Fault injection for the crash tests: count a process's file-system steps, die at one.

``install(root, kill_at, trace)`` wraps the calls that put bytes or names on disk (``os.write``,
``os.fsync``, ``os.replace``, ``os.rename``, the directory exchange of ``punie_tools.atomic``
and, when mlx is loaded, ``mx.save_safetensors``). Steps on paths under ``root`` are numbered
from 1 and, with ``trace``, written there as JSON lines. At step ``kill_at`` the process
SIGKILLs itself, after tearing what that step was writing: half the bytes of a write, a
staged file cut to half before its fsync, half a safetensors file. Nothing runs after the
kill (no ``finally``, no atexit), exactly as when the machine loses the process.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _fd_path(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class Steps:
    """The numbered file-system steps of this process under one folder."""

    def __init__(self, root: Path, kill_at: int | None, trace: Path | None) -> None:
        self.root = str(Path(root).resolve())
        self.kill_at = kill_at
        self.trace = trace
        self.count = 0

    def step(self, kind: str, path: str, tear: Callable[[], None] | None = None) -> None:
        """Count a step on ``path``; at the chosen one, tear it and die."""
        path = os.path.abspath(path)
        if not path.startswith(self.root):
            return
        self.count += 1
        if self.trace is not None:
            line = json.dumps({"step": self.count, "kind": kind, "path": path[len(self.root) :]})
            with self.trace.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        if self.count == self.kill_at:
            if tear is not None:
                tear()
            _die()


def install(root: Path, kill_at: int | None = None, trace: Path | None = None) -> Steps:
    """Wrap the file-system calls of this process; see the module docstring."""
    steps = Steps(root, kill_at, trace)
    real_write, real_fsync = os.write, os.fsync
    real_replace, real_rename = os.replace, os.rename

    def write(fd: int, data: Any) -> int:
        def tear() -> None:
            real_write(fd, bytes(data)[: max(1, len(data) // 2)])

        steps.step("write", _fd_path(fd), tear)
        return real_write(fd, data)

    def fsync(fd: int) -> None:
        path = _fd_path(fd)

        def tear() -> None:
            if os.path.isfile(path) and (".tmp" in path or ".staging-" in path):
                os.truncate(path, os.path.getsize(path) // 2)

        steps.step("fsync", path, tear)
        real_fsync(fd)

    def replace(src: Any, dst: Any, **kwargs: Any) -> None:
        steps.step("replace", os.fspath(dst))
        real_replace(src, dst, **kwargs)

    def rename(src: Any, dst: Any, **kwargs: Any) -> None:
        steps.step("rename", os.fspath(dst))
        real_rename(src, dst, **kwargs)

    for name, wrapper in (
        ("write", write),
        ("fsync", fsync),
        ("replace", replace),
        ("rename", rename),
    ):
        setattr(os, name, wrapper)

    from punie_tools import atomic

    real_exchange = atomic._exchange

    def exchange(a: Path, b: Path) -> bool:
        steps.step("exchange", os.fspath(b))
        return real_exchange(a, b)

    setattr(atomic, "_exchange", exchange)  # noqa: B010
    _wrap_safetensors(steps)
    return steps


def _wrap_safetensors(steps: Steps) -> None:
    try:
        import mlx.core as mx
    except ImportError:
        return
    real_save = mx.save_safetensors

    def save(file: str, arrays: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        def tear() -> None:
            real_save(file, arrays, *args, **kwargs)
            with open(file, "r+b") as handle:
                handle.truncate(os.path.getsize(file) // 2)

        steps.step("save_safetensors", file, tear)
        real_save(file, arrays, *args, **kwargs)

    setattr(mx, "save_safetensors", save)  # noqa: B010
