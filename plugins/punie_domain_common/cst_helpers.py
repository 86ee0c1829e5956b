"""libcst helpers the domain validators share: parsing, decorators, Inject[T], t-strings."""

from __future__ import annotations

import builtins
import functools
import re
from collections.abc import Iterator, Mapping, Sequence

import attrs
import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from punie_domain_common._guard import MAX_NESTING, too_deep
from punie_domain_common.walk import walk

BUILTIN_NAMES = frozenset(dir(builtins))
DATACLASS_DECORATORS = frozenset({"dataclass", "define", "frozen", "mutable"})
HTML_FUNCTIONS = frozenset({"html", "svg"})
_PARSER_PREFIX = re.compile(r"^parser error: error at \d+:\d+: ")


class Parsed:
    """A parsed module; node lines come from one metadata pass, run on first use."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module

    @functools.cached_property
    def positions(self) -> Mapping[cst.CSTNode, CodeRange]:
        """Where every node is (computed once, only when an issue needs a line)."""
        return MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)

    def line(self, node: cst.CSTNode) -> int | None:
        """The 1-based line where ``node`` starts."""
        pos = self.positions.get(node)
        return pos.start.line if pos is not None else None


def parse_source(source: str) -> Parsed | str:
    """Parse ``source``; a string is the reason it could not be parsed."""
    if too_deep(source):
        return f"brackets are nested more than {MAX_NESTING} levels deep; Python rejects this"
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        message = _PARSER_PREFIX.sub("", exc.message)
        return f"syntax error at line {exc.raw_line}, column {exc.raw_column}: {message}"
    except Exception as exc:  # libcst also raises CSTValidationError, ValueError, ...
        return f"cannot parse: {type(exc).__name__}: {exc}"
    return Parsed(module)


def dotted_name(expr: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        base = dotted_name(expr.value)
        return f"{base}.{expr.attr.value}" if base is not None else None
    return None


def last_name(expr: cst.BaseExpression) -> str | None:
    """The last segment of a Name/Attribute chain (``c`` of ``a.b.c``)."""
    name = dotted_name(expr)
    return name.rsplit(".", 1)[-1] if name is not None else None


def root_name(expr: cst.BaseExpression) -> str | None:
    """The first segment of a Name/Attribute chain (``a`` of ``a.b.c``)."""
    name = dotted_name(expr)
    return name.split(".", 1)[0] if name is not None else None


def decorator_name(decorator: cst.Decorator) -> str | None:
    """The last name segment of ``@x``, ``@m.x``, ``@x(...)`` or ``@m.x(...)``."""
    expr = decorator.decorator
    if isinstance(expr, cst.Call):
        expr = expr.func
    return last_name(expr)


def find_decorator(
    node: cst.ClassDef | cst.FunctionDef, names: frozenset[str] | str
) -> cst.Decorator | None:
    """The first decorator of ``node`` whose name is in ``names``."""
    wanted = frozenset({names}) if isinstance(names, str) else names
    for decorator in node.decorators:
        if decorator_name(decorator) in wanted:
            return decorator
    return None


def is_dataclass_like(node: cst.ClassDef) -> bool:
    """Whether the class is a dataclass (or an attrs class, which takes fields the same way)."""
    return find_decorator(node, DATACLASS_DECORATORS) is not None


def is_abstract(node: cst.ClassDef) -> bool:
    """Whether the class is a Protocol or an ABC: an interface, not an implementation."""
    bases = {last_name(b.value) for b in node.bases}
    metaclass = any(
        k.keyword is not None and k.keyword.value == "metaclass" and last_name(k.value) == "ABCMeta"
        for k in node.keywords
    )
    return metaclass or bool(bases & {"Protocol", "ABC"})


def is_stub(func: cst.FunctionDef) -> bool:
    """Whether a function body is only a docstring, ``...``, ``pass`` or a bare ``raise``."""
    body = func.body
    statements = body.body if isinstance(body, cst.IndentedBlock) else [body]
    for stmt in statements:
        if not isinstance(stmt, cst.SimpleStatementLine):
            return False
        for small in stmt.body:
            if isinstance(small, cst.Pass | cst.Raise):
                continue
            if isinstance(small, cst.Expr) and isinstance(
                small.value, cst.Ellipsis | cst.SimpleString | cst.ConcatenatedString
            ):
                continue
            return False
    return True


def call_name(call: cst.Call) -> str | None:
    """The last name segment of the called function (``html`` for ``tdom.html(...)``)."""
    return last_name(call.func)


def is_html_call(node: cst.CSTNode) -> bool:
    """Whether ``node`` is a call to tdom's ``html()`` or ``svg()``."""
    return isinstance(node, cst.Call) and call_name(node) in HTML_FUNCTIONS


def first_positional(call: cst.Call) -> cst.BaseExpression | None:
    """The first positional argument of a call."""
    for arg in call.args:
        if arg.keyword is None and not arg.star:
            return arg.value
    return None


def keyword_arg(call: cst.Call, names: frozenset[str] | str) -> cst.Arg | None:
    """The keyword argument of ``call`` named one of ``names``."""
    wanted = frozenset({names}) if isinstance(names, str) else names
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in wanted:
            return arg
    return None


@attrs.frozen
class InjectRef:
    """The ``T`` of an ``Inject[T]`` annotation: its expression and name (None if nested)."""

    annotation: cst.Subscript
    target: cst.BaseExpression | None
    name: str | None


def inject_ref(annotation: cst.BaseExpression) -> InjectRef | None:
    """Read ``Inject[T]`` (or ``svcs_di.Inject[T]``); None when it is not an Inject."""
    if not isinstance(annotation, cst.Subscript) or last_name(annotation.value) != "Inject":
        return None
    first = annotation.slice[0].slice if annotation.slice else None
    target = first.value if isinstance(first, cst.Index) else None
    name: str | None = None
    if target is not None:
        name = dotted_name(target)
        if name is None and isinstance(target, cst.SimpleString):
            text = literal_string(target)
            if text is not None and all(p.isidentifier() for p in text.split(".")):
                name = text
    return InjectRef(annotation=annotation, target=target, name=name)


def class_methods(node: cst.ClassDef) -> dict[str, cst.FunctionDef]:
    """Methods defined directly in the class body, by name."""
    return {stmt.name.value: stmt for stmt in node.body.body if isinstance(stmt, cst.FunctionDef)}


def class_fields(node: cst.ClassDef) -> Iterator[cst.AnnAssign]:
    """Annotated assignments directly in the class body (dataclass fields)."""
    for stmt in node.body.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.AnnAssign):
                    yield small


def class_inject_fields(node: cst.ClassDef) -> Iterator[tuple[str, InjectRef]]:
    """``(field name, Inject ref)`` for each ``x: Inject[T]`` field of the class body."""
    for field in class_fields(node):
        ref = inject_ref(field.annotation.annotation)
        if ref is not None and isinstance(field.target, cst.Name):
            yield field.target.value, ref


def positional_params(func: cst.FunctionDef) -> list[cst.Param]:
    """Positional parameters (positional-only and normal) of a function."""
    return [*func.params.posonly_params, *func.params.params]


def all_params(func: cst.FunctionDef | cst.Lambda) -> Iterator[cst.Param]:
    """Every named parameter of a function or lambda."""
    p = func.params
    yield from p.posonly_params
    yield from p.params
    if isinstance(p.star_arg, cst.Param):
        yield p.star_arg
    yield from p.kwonly_params
    if p.star_kwarg is not None:
        yield p.star_kwarg


class _OwnBodyVisitor(cst.CSTVisitor):
    """Visits a function body without descending into nested functions, classes or lambdas."""

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


class _ReturnFinder(_OwnBodyVisitor):
    def __init__(self) -> None:
        self.returns: list[cst.Return] = []

    def visit_Return(self, node: cst.Return) -> None:
        self.returns.append(node)


def own_returns(func: cst.FunctionDef) -> list[cst.Return]:
    """The ``return`` statements of ``func`` itself (not of nested functions)."""
    finder = _ReturnFinder()
    walk(func.body, finder)
    return finder.returns


def string_parts(expr: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The pieces of an implicitly concatenated string (the string itself otherwise)."""
    if isinstance(expr, cst.ConcatenatedString):
        yield from string_parts(expr.left)
        yield from string_parts(expr.right)
    else:
        yield expr


def is_fstring(expr: cst.BaseExpression) -> bool:
    """Whether ``expr`` is an f-string in any prefix form, or a concatenation with one."""
    return any(isinstance(part, cst.FormattedString) for part in string_parts(expr))


def is_plain_string(expr: cst.BaseExpression) -> bool:
    """Whether ``expr`` is a non-f, non-t string literal (possibly concatenated)."""
    return all(isinstance(part, cst.SimpleString) for part in string_parts(expr))


def is_tstring(expr: cst.BaseExpression) -> bool:
    """Whether ``expr`` is a t-string (a Template)."""
    return isinstance(expr, cst.TemplatedString)


def literal_string(expr: cst.BaseExpression) -> str | None:
    """The value of a plain (possibly concatenated) string literal, else None."""
    if isinstance(expr, cst.SimpleString | cst.ConcatenatedString) and is_plain_string(expr):
        try:
            value = expr.evaluated_value
        except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
            return None  # e.g. an invalid \N{...} escape libcst accepted
        return value if isinstance(value, str) else None
    return None


def component_tag_refs(
    template: cst.TemplatedString,
) -> Iterator[cst.TemplatedStringExpression]:
    """Interpolations used as component tags: ``<{Card} ...>`` and ``</{Card}>``."""
    previous: cst.BaseTemplatedStringContent | None = None
    for part in template.parts:
        if (
            isinstance(part, cst.TemplatedStringExpression)
            and isinstance(previous, cst.TemplatedStringText)
            and (previous.value.endswith("<") or previous.value.endswith("</"))
        ):
            yield part
        previous = part


def interpolations(template: cst.TemplatedString) -> Sequence[cst.TemplatedStringExpression]:
    """Every ``{...}`` interpolation directly in the t-string."""
    return [p for p in template.parts if isinstance(p, cst.TemplatedStringExpression)]
