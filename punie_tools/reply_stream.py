"""Streaming a model reply to a user while hiding its Code Mode call markup."""

from __future__ import annotations

from collections.abc import Callable

CALL_OPEN = "<tool_call>"


class ReplyStream:
    """Passes reply text on as it arrives, up to the start of a ``<tool_call>``.

    Text that could still turn into the opening tag is held back until it cannot.
    """

    def __init__(self, emit: Callable[[str], None]) -> None:
        self.emit = emit
        self.received = ""
        self._held = ""
        self._hidden = False

    def feed(self, piece: str) -> None:
        """Take the next piece of the reply."""
        self.received += piece
        if self._hidden or not piece:
            return
        text = self._held + piece
        start = text.find(CALL_OPEN)
        if start >= 0:
            self._hidden = True
            self._held = ""
            self._send(text[:start].rstrip())
            return
        keep = _partial_tag(text)
        self._held = text[len(text) - keep :] if keep else ""
        self._send(text[: len(text) - keep])

    def finish(self, reply: str) -> None:
        """The model returned ``reply``: pass on what was not streamed, then held text."""
        if reply.startswith(self.received):
            self.feed(reply[len(self.received) :])
        if not self._hidden:
            self._send(self._held)
        self._held = ""

    def _send(self, text: str) -> None:
        if text:
            self.emit(text)


def _partial_tag(text: str) -> int:
    """Length of the longest end of ``text`` that begins the opening tag."""
    for size in range(min(len(text), len(CALL_OPEN) - 1), 0, -1):
        if CALL_OPEN.startswith(text[-size:]):
            return size
    return 0
