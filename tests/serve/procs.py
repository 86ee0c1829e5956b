"""Processes from /proc: a server's descendants, and whether any is still running."""

from __future__ import annotations

import os
import time
from pathlib import Path

PROC = Path("/proc")


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, None when it is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def running(pid: int) -> bool:
    """Whether the process exists and is not a zombie."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def cmdline(pid: int) -> str:
    """The command line of a process ('' when it is gone)."""
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def children(pid: int) -> list[int]:
    """The running processes whose parent is ``pid``."""
    out = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == pid and stat[0] not in ("Z", "X"):
                out.append(int(entry.name))
    return out


def descendants(pid: int) -> set[int]:
    """Every running process below ``pid``."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def server_tree(marker: str) -> set[int]:
    """This test process's child whose command line has ``marker``, and all below it."""
    mine = [p for p in children(os.getpid()) if marker in cmdline(p)]
    tree: set[int] = set(mine)
    for pid in mine:
        tree |= descendants(pid)
    return tree


def wait_gone(pids: set[int], seconds: float = 10.0) -> set[int]:
    """Wait until none of ``pids`` runs; the ones still running at the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        left = {p for p in pids if running(p)}
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)
