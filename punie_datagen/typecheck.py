"""An optional second opinion on code: monty's type check against the registry's stubs.

Off by default (``--type-check``): the ast checker already catches calls and attribute
reads that do not exist, and monty's check costs a sandbox round trip per code block.
"""

from __future__ import annotations

import atexit

import pydantic_monty as monty

_LIMITS: monty.ResourceLimits = {"max_feed_duration_secs": 5.0}


class StubTypeChecker:
    """Type-checks Code Mode code against stub text; nothing past the first tool call runs."""

    def __init__(self, stubs: str) -> None:
        self.stubs = stubs
        self._pool: monty.Monty | None = None

    def _get_pool(self) -> monty.Monty:
        if self._pool is None:
            pool = monty.Monty(min_processes=1, max_processes=1)
            pool.__enter__()
            atexit.register(pool.__exit__, None, None, None)
            self._pool = pool
        return self._pool

    def __call__(self, code: str) -> str | None:
        """The type checker's complaints (one line each), or None when the code checks."""
        try:
            with self._get_pool().checkout(
                limits=_LIMITS,
                type_check=True,
                type_check_stubs=self.stubs,
                type_check_format="concise",
            ) as session:
                # feed_start stops at the first external call, so no tool runs here.
                session.feed_start(code, print_callback=monty.CollectString())
        except monty.MontyTypingError as exc:
            lines = [line for line in str(exc).splitlines() if "error[" in line]
            return "; ".join(lines) or str(exc).strip()
        except monty.MontyError:
            return None  # a runtime problem is not a type error; execution judges those
        return None
