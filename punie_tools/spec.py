"""Tool specifications derived from typed Python functions."""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from punie_tools.workspace import Workspace

_EMPTY = inspect.Parameter.empty


@attrs.frozen
class Unknown:
    """An argument whose value the code does not give literally (a variable, an expression)."""

    source: str


class SpecError(ValueError):
    """A tool function cannot be turned into a ToolSpec."""


@attrs.frozen
class Parameter:
    """One argument the model passes to a tool."""

    name: str
    annotation: Any = attrs.field(eq=False, hash=False)
    type_text: str
    default: Any = attrs.field(default=_EMPTY, eq=False, hash=False)
    description: str = ""

    @property
    def required(self) -> bool:
        """Whether the model must pass this argument."""
        return self.default is _EMPTY

    def signature_text(self) -> str:
        """The parameter as it appears in a Python signature."""
        if self.required:
            return f"{self.name}: {self.type_text}"
        return f"{self.name}: {self.type_text} = {self.default!r}"


@attrs.frozen
class ToolSpec:
    """A tool: its name, category, summary, parameters, result type and implementation."""

    name: str
    category: str
    summary: str
    parameters: tuple[Parameter, ...]
    result_type: Any = attrs.field(eq=False, hash=False)
    function: Callable[..., Any] = attrs.field(eq=False, hash=False, repr=False)
    injected: tuple[str, ...] = ()
    writes: bool = False
    preview_flag: str | None = None
    """A boolean parameter that, passed False, makes a writing call only a preview."""
    example: str = ""
    """Code Mode lines calling this tool, for the system prompt's example (see `prompt`)."""

    @classmethod
    def from_function(
        cls,
        function: Callable[..., Any],
        *,
        category: str,
        writes: bool = False,
        preview_flag: str | None = None,
        example: str = "",
    ) -> ToolSpec:
        """Build a spec from a typed function with a docstring.

        Parameters annotated ``Workspace`` are injected at call time and hidden from the
        model. ``writes`` marks tools that change files or run programs, which the agent
        asks the user to confirm, unless the call sets ``preview_flag`` to False (a
        preview). ``example`` is a short call of the tool for the system prompt.
        """
        if not callable(function) or not hasattr(function, "__name__"):
            raise SpecError(f"{function!r} is not a function")
        name = str(function.__name__)
        doc = inspect.getdoc(function)
        if not doc:
            raise SpecError(f"tool {name!r} has no docstring")
        try:
            hints = typing.get_type_hints(function)
        except Exception as exc:
            raise SpecError(f"tool {name!r}: cannot resolve type hints: {exc}") from exc
        if "return" not in hints:
            raise SpecError(f"tool {name!r} has no return annotation")
        descriptions = _arg_descriptions(doc)
        params: list[Parameter] = []
        injected: list[str] = []
        for p in inspect.signature(function).parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise SpecError(f"tool {name!r}: *args/**kwargs are not supported")
            if p.name not in hints:
                raise SpecError(f"tool {name!r}: parameter {p.name!r} has no type hint")
            if hints[p.name] is Workspace:
                injected.append(p.name)
                continue
            params.append(
                Parameter(
                    name=p.name,
                    annotation=hints[p.name],
                    type_text=type_text(hints[p.name]),
                    default=p.default,
                    description=descriptions.get(p.name, ""),
                )
            )
        return cls(
            name=name,
            category=category,
            summary=doc.splitlines()[0].strip(),
            parameters=tuple(params),
            result_type=hints["return"],
            function=function,
            injected=tuple(injected),
            writes=writes,
            preview_flag=preview_flag,
            example=example,
        )

    @property
    def result_text(self) -> str:
        """The return type as written in a signature."""
        return type_text(self.result_type)

    def signature(self) -> str:
        """One-line Python signature: ``git_log(path: str, count: int = 10) -> GitLogResult``."""
        args = ", ".join(p.signature_text() for p in self.parameters)
        return f"{self.name}({args}) -> {self.result_text}"

    def json_schema(self) -> dict[str, Any]:
        """JSON schema of the arguments (for function-calling APIs)."""
        props = {}
        for p in self.parameters:
            prop = _json_type(p.annotation)
            if p.description:
                prop["description"] = p.description
            if not p.required:
                prop["default"] = p.default
            props[p.name] = prop
        return {
            "type": "object",
            "properties": props,
            "required": [p.name for p in self.parameters if p.required],
            "additionalProperties": False,
        }

    def bind(
        self,
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any] | Iterable[tuple[str, Any]],
        *,
        check_types: bool = True,
    ) -> dict[str, Any]:
        """Bind a call's arguments to parameter names as Python would, defaults filled in.

        Raises TypeError with a message naming the tool, as Python would: too many, unknown,
        duplicate or missing arguments, and (with `check_types`) a value of the wrong type.
        An `Unknown` value is bound but never type-checked. The one binding of tool calls:
        the sandbox, datagen's code check and the scorer all use it.
        """
        names = [p.name for p in self.parameters]
        if len(args) > len(names):
            raise TypeError(
                f"{self.name}() takes {len(names)} positional arguments but {len(args)} were given"
            )
        bound = dict(zip(names, args, strict=False))
        pairs = kwargs.items() if isinstance(kwargs, Mapping) else kwargs
        for key, value in pairs:
            if key not in names:
                raise TypeError(f"{self.name}() got an unexpected keyword argument {key!r}")
            if key in bound:
                raise TypeError(f"{self.name}() got multiple values for argument {key!r}")
            bound[key] = value
        for p in self.parameters:
            if p.name not in bound:
                if p.required:
                    raise TypeError(f"{self.name}() missing required argument {p.name!r}")
                bound[p.name] = p.default
            elif (
                check_types
                and not isinstance(bound[p.name], Unknown)
                and not value_fits(bound[p.name], p.annotation)
            ):
                raise TypeError(
                    f"{self.name}() argument {p.name!r} must be {p.type_text}, "
                    f"not {type(bound[p.name]).__name__}"
                )
        return bound


def type_text(annotation: Any) -> str:
    """Render a type annotation the way it is written in source."""
    if annotation is None or annotation is type(None):
        return "None"
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (types.UnionType, typing.Union):
        return " | ".join(type_text(a) for a in args)
    if origin is typing.Literal:
        return f"Literal[{', '.join(repr(a) for a in args)}]"
    if origin is not None:
        base = getattr(origin, "__name__", str(origin))
        return f"{base}[{', '.join(type_text(a) for a in args)}]" if args else base
    return str(annotation).replace("typing.", "")


def value_fits(value: Any, annotation: Any) -> bool:
    """Whether a value fits a simple annotation (str, int, bool, float, list[...], unions)."""
    if annotation is Any:
        return True
    if annotation is None or annotation is type(None):
        return value is None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (types.UnionType, typing.Union):
        return any(value_fits(value, a) for a in args)
    if origin is typing.Literal:
        return value in args
    if origin in (list, tuple, set, frozenset):
        if not isinstance(value, list | tuple):
            return False
        return not args or all(value_fits(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True


def _json_type(annotation: Any) -> dict[str, Any]:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (types.UnionType, typing.Union):
        return {"anyOf": [_json_type(a) for a in args]}
    if origin in (list, tuple):
        return {"type": "array", "items": _json_type(args[0]) if args else {}}
    simple = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}
    if annotation in simple:
        return {"type": simple[annotation]}
    return {}


_ARGS_HEADER = re.compile(r"^\s*(Args|Arguments|Parameters):\s*$")
_ARG_LINE = re.compile(r"^\s+(\w+)(?:\s*\([^)]*\))?:\s*(.*)$")


def _arg_descriptions(doc: str) -> dict[str, str]:
    """Parse a Google-style ``Args:`` section into {name: description}."""
    out: dict[str, str] = {}
    in_args = False
    current = ""
    for line in doc.splitlines():
        if _ARGS_HEADER.match(line):
            in_args = True
            continue
        if in_args:
            if line.strip() and not line.startswith((" ", "\t")):
                break
            match = _ARG_LINE.match(line)
            if match and len(line) - len(line.lstrip()) <= 4:
                current = match.group(1)
                out[current] = match.group(2).strip()
            elif current and line.strip():
                out[current] = f"{out[current]} {line.strip()}"
    return out
