"""The pieces the protocol servers share: reply streaming, result JSON, the write rule."""

from __future__ import annotations

import attrs

from punie_tools import ToolSpec
from punie_tools.codemode import format_tool_call
from punie_tools.policy import call_writes, describe_call
from punie_tools.reply_stream import ReplyStream
from punie_tools.results import failure, result_text, structured


def stream(pieces: list[str]) -> list[str]:
    """What a ReplyStream emits for these pieces (the reply is their concatenation)."""
    out: list[str] = []
    s = ReplyStream(out.append)
    for piece in pieces:
        s.feed(piece)
    s.finish("".join(pieces))
    return out


def test_reply_stream_hides_the_call_even_split_across_pieces() -> None:
    """Text before a call is streamed; the call markup never is, however it is split."""
    reply = "Let me look." + format_tool_call('print(git_status("."))')
    for size in (1, 3, 7, 100):
        pieces = [reply[i : i + size] for i in range(0, len(reply), size)]
        assert "".join(stream(pieces)) == "Let me look."


def test_reply_stream_passes_plain_text_and_unstreamed_replies() -> None:
    """A plain answer comes through whole, a lone '<' included; a reply never streamed is
    emitted when the model returns."""
    assert "".join(stream(["a <", "b> c"])) == "a <b> c"
    out: list[str] = []
    ReplyStream(out.append).finish("All done.")
    assert out == ["All done."]


@attrs.frozen
class Inner:
    """Nested."""

    line: int


@attrs.frozen
class Outer:
    """A result."""

    success: bool
    items: tuple[Inner, ...]
    parse_error: str | None = None


def test_results_as_json() -> None:
    """attrs fields recursively; plain values under 'result'; parse_error marks failure."""
    value = Outer(True, (Inner(3),))
    assert structured(value) == {"success": True, "items": [{"line": 3}], "parse_error": None}
    assert structured("text") == {"result": "text"}
    assert result_text("text") == "text"
    assert result_text(value) == repr(value)
    assert failure(value) is None
    assert failure(Outer(False, (), parse_error="bad path")) == "bad path"


def test_write_rule_and_description() -> None:
    """A writing tool with its preview flag False only previews; without one it writes."""

    def edit(path: str, write: bool = False) -> str:
        """Edit a file."""
        return path

    spec = ToolSpec.from_function(edit, category="x", writes=True, preview_flag="write")
    assert call_writes(spec, {"path": "a", "write": True})
    assert not call_writes(spec, {"path": "a", "write": False})
    flagless = ToolSpec.from_function(edit, category="x", writes=True)
    assert call_writes(flagless, {"path": "a", "write": False})
    assert describe_call(spec, {"path": "x" * 100}, width=10) == "edit(path='xxxxxx...)"
