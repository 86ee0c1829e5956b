"""Hypothesis strategies for the domain validators: valid Python built from a small grammar.

The grammar leans on the shapes the validators look at (decorated classes, ``Inject[T]``
fields, ``html(t"...")`` calls, f-strings of every prefix, string building, route calls)
so that random programs reach the rule code, not only the parser.
"""

from __future__ import annotations

import keyword

from hypothesis import strategies as st

DOMAIN_NAMES = [
    "Card",
    "Badge",
    "Node",
    "Template",
    "Inject",
    "Optional",
    "Database",
    "html",
    "svg",
    "Markup",
    "Route",
    "Mount",
    "add_route",
    "register_factory",
    "register_value",
    "register_middleware",
    "auto",
    "self",
    "target",
    "props",
    "context",
    "container",
    "priority",
    "categories",
    "path",
    "format",
    "__call__",
    "__init__",
]
DECORATORS = ["dataclass", "injectable", "middleware", "hookable", "component", "route", "get"]


def _ok_identifier(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and name not in {"t", "f"}


identifiers = st.one_of(
    st.sampled_from(DOMAIN_NAMES),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,5}", fullmatch=True).filter(_ok_identifier),
)

_TEXT = st.text(alphabet="abc <>/=-_'{}", max_size=12)


def _escape_braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def string_literals(interpolated: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Plain, f- (any prefix form) and t-string literals, with markup-ish text."""
    plain = _TEXT.map(lambda s: s.replace("\\", "")).map(lambda s: '"' + s.replace('"', "") + '"')
    prefixes = st.sampled_from(["f", "F", "rf", "fr", "Rf", "fR", "RF", "t", "rt"])
    parts = st.lists(
        st.one_of(_TEXT.map(_escape_braces), interpolated.map(lambda e: "{" + e + "}")),
        max_size=4,
    )
    formatted = st.builds(lambda p, xs: p + '"' + "".join(xs) + '"', prefixes, parts)
    return st.one_of(plain, formatted)


def expressions(depth: int = 2) -> st.SearchStrategy[str]:
    """Expressions: names, attributes, calls, subscripts, strings, + and % building."""
    names = identifiers
    if depth <= 0:
        return st.one_of(names, st.integers(-3, 99).map(str))
    inner = expressions(depth - 1)
    # Interpolations hold no strings, so no quote can clash with the enclosing literal.
    simple = st.one_of(names, st.builds(lambda a, b: f"{a}.{b}", names, names))
    return st.one_of(
        names,
        st.integers(-3, 99).map(str),
        string_literals(simple),
        st.builds(lambda a, b: f"({a}).{b}", inner, identifiers),
        st.builds(
            lambda f, args, kw: f"{f}({', '.join([*args, *kw])})",
            st.one_of(names, st.builds(lambda a, b: f"{a}.{b}", names, names)),
            st.lists(inner, max_size=3),
            st.lists(st.builds(lambda k, v: f"{k}={v}", identifiers, inner), max_size=2),
        ),
        st.builds(lambda v, i: f"{v}[{i}]", names, inner),
        st.builds(lambda a, op, b: f"({a} {op} {b})", inner, st.sampled_from("+%|"), inner),
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
    )


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def _decorators() -> st.SearchStrategy[list[str]]:
    deco = st.one_of(
        st.sampled_from(DECORATORS).map(lambda d: "@" + d),
        st.builds(lambda d, a: f"@{d}({a})", st.sampled_from(DECORATORS), expressions(1)),
        st.builds(
            lambda d, xs: f"@{d}(categories=[{', '.join(xs)}])",
            st.just("middleware"),
            st.lists(st.sampled_from(['"a"', '"security"', "x"]), max_size=2),
        ),
    )
    return st.lists(deco, max_size=3)


def _params() -> st.SearchStrategy[str]:
    def annotate(names: list[str]) -> st.SearchStrategy[str]:
        each = [
            st.one_of(st.just(n), expressions(1).map(lambda a, n=n: f"{n}: {a}")) for n in names
        ]
        return st.tuples(*each).map(", ".join)

    return st.lists(identifiers, max_size=4, unique=True).flatmap(annotate)


def statements(depth: int = 2, in_function: bool = False) -> st.SearchStrategy[list[str]]:
    """One statement as indented source lines."""
    expr = expressions(2)
    simple = st.one_of(
        st.builds(lambda n, e: [f"{n} = {e}"], identifiers, expr),
        st.builds(lambda n, a: [f"{n}: {a}"], identifiers, expr),
        st.builds(lambda n, a, e: [f"{n}: {a} = {e}"], identifiers, expr, expr),
        st.builds(lambda n, t: [f"{n}: Inject[{t}]"], identifiers, expressions(1)),
        expr.map(lambda e: [e]),
        st.builds(lambda m, n: [f"from {m} import {n}"], identifiers, identifiers),
        st.builds(
            lambda m, n, a: [f"from {m} import {n} as {a}"], identifiers, identifiers, identifiers
        ),
        identifiers.map(lambda m: [f"import {m}"]),
        st.just(["pass"]),
    )
    if in_function:
        simple = st.one_of(simple, expr.map(lambda e: [f"return {e}"]), st.just(["return"]))
    if depth <= 0:
        return simple
    body = st.lists(statements(depth - 1, in_function), min_size=1, max_size=4).map(
        lambda blocks: [line for block in blocks for line in block]
    )
    method_body = st.lists(statements(depth - 1, True), min_size=1, max_size=4).map(
        lambda blocks: [line for block in blocks for line in block]
    )
    funcdef = st.builds(
        lambda decos, name, params, ret, b: [
            *decos,
            f"def {name}({params}){ret}:",
            *_indent(b),
        ],
        _decorators(),
        identifiers,
        _params(),
        st.one_of(st.just(""), expressions(1).map(lambda a: f" -> {a}")),
        method_body,
    )
    classdef = st.builds(
        lambda decos, name, bases, b: [*decos, f"class {name}{bases}:", *_indent(b)],
        _decorators(),
        identifiers,
        st.one_of(st.just(""), identifiers.map(lambda b: f"({b})")),
        st.lists(st.one_of(statements(depth - 1, False), funcdef), min_size=1, max_size=4).map(
            lambda blocks: [line for block in blocks for line in block]
        ),
    )
    compound = st.one_of(
        st.builds(lambda c, b: [f"if {c}:", *_indent(b)], expr, body),
        st.builds(lambda n, it, b: [f"for {n} in {it}:", *_indent(b)], identifiers, expr, body),
    )
    return st.one_of(simple, funcdef, classdef, compound)


def python_modules() -> st.SearchStrategy[str]:
    """Whole modules of grammar-built Python (3.14 t-strings included)."""
    return st.lists(statements(2), min_size=1, max_size=6).map(
        lambda blocks: "\n".join(line for block in blocks for line in block) + "\n"
    )
