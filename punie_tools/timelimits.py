"""Wall-clock limits of tools and the sandbox: scaled by the host, reported when they stop work.

A time limit makes a tool's answer depend on machine load: the same call answers on a quiet
machine and times out on a busy one. Every tool that enforces one asks ``seconds(limit)``
for the value to use and calls ``hit(message)`` when the limit stops it. A host that needs
load-independent results (the dataset build) runs work inside ``watch(scale)``: limits are
multiplied by ``scale`` and the hits are collected, so it can retry with more time or reject
the work, the same way whatever the load. Outside ``watch`` limits are as given and hits
are dropped. State is per process (a datagen worker runs one job at a time).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Generator

_lock = threading.Lock()
_scale = 1.0
_hits: list[str] | None = None


def seconds(limit: float) -> float:
    """The time limit to enforce now: ``limit`` times the scale of the current ``watch``."""
    with _lock:
        return limit * _scale


def hit(message: str) -> None:
    """Record that a time limit stopped something (``message`` says what and which limit)."""
    with _lock:
        if _hits is not None:
            _hits.append(message)


@contextlib.contextmanager
def watch(scale: float = 1.0) -> Generator[list[str]]:
    """In the block, limits are multiplied by ``scale``; yields the hits as they come."""
    global _scale, _hits
    hits: list[str] = []
    with _lock:
        previous = _scale, _hits
        _scale, _hits = scale, hits
    try:
        yield hits
    finally:
        with _lock:
            _scale, _hits = previous
