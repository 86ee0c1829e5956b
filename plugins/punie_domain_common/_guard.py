"""Reject sources nested so deeply that libcst's native parser would crash the process."""

from __future__ import annotations

import io
import tokenize

# CPython's tokenizer refuses more than 200 nested brackets, so no valid file is rejected;
# libcst's native parser overflows its stack (a segfault, not an exception) far above that.
MAX_NESTING = 200

_OPEN = frozenset("([{")
_CLOSE = frozenset(")]}")


def _raw_depth(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        if ch in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif ch in _CLOSE and depth:
            depth -= 1
    return deepest


def _token_depth(source: str) -> int:
    """Bracket depth of the code, counting braces inside f/t-strings but not other strings."""
    depth = deepest = 0
    prev: tokenize.TokenInfo | None = None
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.OP and tok.string in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif tok.type == tokenize.OP and tok.string in _CLOSE and depth:
            depth -= 1
        elif tok.type == tokenize.STRING:
            prefix = tok.string[: len(tok.string) - len(tok.string.lstrip("rRbBuUfF"))]
            # Python 3.11 tokenizes t"..." as the name t followed by a plain string.
            if prev is not None and prev.type == tokenize.NAME and prev.end == tok.start:
                prefix += prev.string
            if any(c in "fFtT" for c in prefix):
                deepest = max(deepest, depth + _raw_depth(tok.string))
        prev = tok
    return deepest


def too_deep(source: str) -> bool:
    """True when ``source`` nests brackets deeper than Python allows."""
    if _raw_depth(source) <= MAX_NESTING:
        return False
    try:
        return _token_depth(source) > MAX_NESTING
    except (tokenize.TokenError, SyntaxError, ValueError):
        return True
