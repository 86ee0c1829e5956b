"""Scoring one model reply: tool calls read from the code's AST, BFCL-style argument matching,
and the seed's keyword score (tools reference, section 10a) for comparison with Phase 33.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import attrs

from punie_tools import ExpectedCall, ToolSpec


@attrs.frozen
class Unknown:
    """An argument whose value the AST does not give (a variable, an expression)."""

    source: str


@attrs.frozen
class CallSite:
    """One call of a registered tool found in the code, with its literal arguments."""

    tool: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    line: int = 0
    unpacked: bool = False  # *args / **kwargs: the binding cannot be known


def _literal(node: ast.expr, constants: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return Unknown(ast.unparse(node))


def _constants(tree: ast.Module) -> dict[str, Any]:
    """Names bound exactly once, at module level, to a literal (``path = "src/app.py"``)."""
    bound: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            bound[node.id] = bound.get(node.id, 0) + 1
    out: dict[str, Any] = {}
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and bound.get(stmt.targets[0].id) == 1
        ):
            value = _literal(stmt.value, {})
            if not isinstance(value, Unknown):
                out[stmt.targets[0].id] = value
    return out


def extract_calls(code: str, tool_names: Collection[str]) -> list[CallSite] | None:
    """Every call of a registered tool in ``code``, in source order; None if it does not parse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    constants = _constants(tree)
    sites: list[CallSite] = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in tool_names
        ):
            continue
        args, kwargs, unpacked = _arguments(node, constants)
        sites.append(CallSite(node.func.id, args, kwargs, line=node.lineno, unpacked=unpacked))
    return sorted(sites, key=lambda s: s.line)


def _arguments(
    node: ast.Call, constants: Mapping[str, Any]
) -> tuple[tuple[Any, ...], tuple[tuple[str, Any], ...], bool]:
    """Positional and keyword arguments; ``*[...]``/``**{...}`` literals are expanded.

    The flag says some unpacking could not be read, so the binding is unknown.
    """
    args: list[Any] = []
    kwargs: list[tuple[str, Any]] = []
    unpacked = False
    for arg in node.args:
        if not isinstance(arg, ast.Starred):
            args.append(_literal(arg, constants))
            continue
        value = _literal(arg.value, constants)
        if isinstance(value, list | tuple):
            args += value
        else:
            unpacked = True
    for keyword in node.keywords:
        if keyword.arg is not None:
            kwargs.append((keyword.arg, _literal(keyword.value, constants)))
            continue
        value = _literal(keyword.value, constants)
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            kwargs += value.items()
        else:
            unpacked = True
    return tuple(args), tuple(kwargs), unpacked


def called_tools(sites: Iterable[CallSite]) -> tuple[str, ...]:
    """The distinct tool names called, in first-call order."""
    return tuple(dict.fromkeys(s.tool for s in sites))


def bind_call(spec: ToolSpec, site: CallSite) -> dict[str, Any] | None:
    """Bind a call's arguments to parameter names as Python would (defaults filled in).

    None when Python would reject the call (too many, unknown, duplicate or missing
    arguments) or when ``*``/``**`` unpacking hides the binding. Types are not checked here:
    that is the type-check rung's job.
    """
    if site.unpacked:
        return None
    names = [p.name for p in spec.parameters]
    if len(site.args) > len(names):
        return None
    bound = dict(zip(names, site.args, strict=False))
    for key, value in site.kwargs:
        if key not in names or key in bound:
            return None
        bound[key] = value
    for p in spec.parameters:
        if p.name not in bound:
            if p.required:
                return None
            bound[p.name] = p.default
    return bound


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
