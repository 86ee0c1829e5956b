"""Stopping a turn from another thread: the model's token stream and the running sandbox."""

from __future__ import annotations

import threading
from typing import Any

from punie_tools.sandbox import RunResult, Sandbox

CANCELLED = "cancelled by the client"


class GenerationCancelled(KeyboardInterrupt):
    """Raised inside the model call when the turn is cancelled.

    A ``KeyboardInterrupt`` so the agent loop ends the turn as it does for Ctrl-C.
    """


class CancellableSandbox(Sandbox):
    """A sandbox whose ``run`` stops waiting as soon as ``cancel`` is set.

    The abandoned run ends at the sandbox's time limit; the guard of the agent refuses
    any tool it calls after the cancellation.
    """

    def __init__(self, *args: Any, cancel: threading.Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cancel = cancel

    def run(self, code: str) -> RunResult:
        """Run ``code`` in a worker thread; a cancelled run returns an error result."""
        if self.cancel.is_set():
            return RunResult(output="", error=CANCELLED)
        box: list[RunResult] = []
        run = super().run
        worker = threading.Thread(target=lambda: box.append(run(code)), daemon=True)
        worker.start()
        while True:
            worker.join(0.05)
            if not worker.is_alive():
                return box[0]
            if self.cancel.is_set():
                return RunResult(output="", error=CANCELLED)
