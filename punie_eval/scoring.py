"""Scoring one model reply: tool calls read from the code's AST, BFCL-style argument matching,
and the seed's keyword score (tools reference, section 10a) for comparison with Phase 33.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from typing import Any

from punie_tools import ExpectedCall, ToolSpec
from punie_tools.callsite import CallSite
from punie_tools.spec import Unknown


def bind_call(spec: ToolSpec, site: CallSite) -> dict[str, Any] | None:
    """Bind a call's arguments to parameter names as Python would (defaults filled in).

    None when Python would reject the call (too many, unknown, duplicate or missing
    arguments) or when ``*``/``**`` unpacking hides the binding. Types are not checked here:
    that is the type-check rung's job.
    """
    if site.unpacked:
        return None
    try:
        return spec.bind(site.args, site.kwargs, check_types=False)
    except TypeError:
        return None


_PATH_PARAM = re.compile(r"(^|_)(path|paths|file|files|dir|dirs|directory|folder|root)($|_)")
_FILE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,6}$")


def is_path_like(name: str, value: object) -> bool:
    """Whether an argument is compared as a path: by its parameter name or its shape."""
    if _PATH_PARAM.search(name.lower()):
        return True
    return isinstance(value, str) and (
        "/" in value or (bool(_FILE_SUFFIX.search(value.strip())) and " " not in value.strip())
    )


def normalize_path(text: str) -> str:
    """A workspace-relative path in one spelling: ``./src/`` and ``src`` are the same."""
    text = text.strip().replace("\\", "/")
    if not text:
        return "."
    return posixpath.normpath(text)


def normalize_value(value: Any, *, path: bool = False) -> Any:
    """A comparable form of an argument value (BFCL-style: lenient on spelling, not meaning).

    Strings are stripped; paths normalised; other strings (symbols, messages) case-folded.
    Numbers compare by value, booleans stay distinct from 0/1, lists and dicts ignore order.
    """
    if isinstance(value, Unknown):
        return value
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("num", float(value))
    if isinstance(value, str):
        return ("str", normalize_path(value) if path else value.strip().casefold())
    if isinstance(value, list | tuple | set | frozenset):
        items = [normalize_value(v, path=path) for v in value]
        return ("seq", tuple(sorted(items, key=repr)))
    if isinstance(value, Mapping):
        pairs = [(str(k), normalize_value(v, path=path)) for k, v in value.items()]
        return ("map", tuple(sorted(pairs, key=repr)))
    return ("other", repr(value))


def arg_matches(name: str, expected: object, actual: object) -> bool:
    """Whether one actual argument equals the expected one after normalisation."""
    if isinstance(actual, Unknown):
        return False
    path = is_path_like(name, expected)
    return normalize_value(expected, path=path) == normalize_value(actual, path=path)


def args_match(expected: Mapping[str, object], bound: Mapping[str, Any]) -> bool:
    """Whether every required (expected) argument is present and right."""
    return all(k in bound and arg_matches(k, v, bound[k]) for k, v in expected.items())


def expected_call_met(
    expected: ExpectedCall, sites: Sequence[CallSite], specs: Mapping[str, ToolSpec]
) -> bool:
    """Whether some call of the expected tool binds and carries the expected arguments."""
    spec = specs.get(expected.tool)
    if spec is None:
        return False
    for site in sites:
        if site.tool != expected.tool:
            continue
        bound = bind_call(spec, site)
        if bound is not None and args_match(expected.args, bound):
            return True
    return False


# The seed's regex (scripts/run_phase33_direct_eval.py), kept as it was for comparability.
_SEED_CODE = re.compile(
    r"<tool_call>\s*<function=execute_code>\s*<parameter=code>\s*(.*?)\s*(</parameter>|$)",
    re.DOTALL,
)


def seed_extract(reply: str) -> tuple[bool, str]:
    """(wrapper found, text searched for keywords) as the seed's harness extracted them."""
    match = _SEED_CODE.search(reply)
    return (True, match.group(1)) if match is not None else (False, reply)


def keyword_score(
    replies: str | Sequence[str], keywords: Sequence[str], *, multi_tool: bool
) -> float:
    """The seed's Phase 33 keyword score (tools reference 10a) of a reply or a multi-step run.

    single tool: wrapper + any keyword 1.0, wrapper alone 0.1, keyword alone 0.5, else 0;
    multi tool: fraction of keywords present, +0.1 with the wrapper, capped at 1.0.
    Several replies (an agent loop) count as one: any wrapper, keywords in any of them.
    """
    extracted = [seed_extract(r) for r in ([replies] if isinstance(replies, str) else replies)]
    wrapper = any(w for w, _ in extracted)
    text = "\n".join(t for _, t in extracted)
    if not keywords:
        return 0.1 if wrapper else 0.0
    hits = [k in text for k in keywords]
    if multi_tool:
        return min(1.0, sum(hits) / len(hits) + (0.1 if wrapper else 0.0))
    if any(hits):
        return 1.0 if wrapper else 0.5
    return 0.1 if wrapper else 0.0


KEYWORD_PASS = 0.5
"""The seed counted a prompt as passed at this keyword score or above."""
