"""Command-line options generated from an attrs class: one generator for every options class.

Each field's ``metadata`` (built with `option`) carries its help text and, where needed, a
metavar, explicit choices, another flag name, or ``cli=False``; the option's type comes from
the field's annotation. Fields that are themselves attrs classes (named in ``nested``) become
one option per sub-field, ``--<field>-<sub>`` with the dotted key ``field.sub``. Options the
user does not give leave no attribute (``argparse.SUPPRESS``), so `given_options` returns
exactly what the command line set and the class's own defaults (or a file's values) apply to
the rest; the help text shows each default.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs


def option(
    text: str,
    *,
    metavar: str | None = None,
    flag: str | None = None,
    choices: Sequence[str] | None = None,
    cli: bool = True,
) -> dict[str, Any]:
    """The metadata of one options-class field (see the module docstring)."""
    data: dict[str, Any] = {"help": text, "cli": cli}
    if metavar is not None:
        data["metavar"] = metavar
    if flag is not None:
        data["flag"] = flag
    if choices is not None:
        data["choices"] = tuple(choices)
    return data


def _flag(field: attrs.Attribute, parent: attrs.Attribute | None) -> str:
    if "flag" in field.metadata:
        return field.metadata["flag"]
    name = field.name if parent is None else f"{parent.name}_{field.name}"
    return "--" + name.replace("_", "-")


def _default_text(field: attrs.Attribute) -> str:
    default = None if hasattr(field.default, "factory") else field.default
    if default is None or default in ((), ""):
        return ""
    return f" (default: {default})"


def add_field(group: Any, field: attrs.Attribute, parent: attrs.Attribute | None = None) -> None:
    """One option for `field` (of the nested attrs field `parent`, if given)."""
    annotation = str(field.type)
    dest = field.name if parent is None else f"{parent.name}.{field.name}"
    kwargs: dict[str, Any] = {
        "dest": dest,
        "default": argparse.SUPPRESS,
        "help": field.metadata.get("help", "") + _default_text(field),
    }
    if field.metadata.get("metavar"):
        kwargs["metavar"] = field.metadata["metavar"]
    if annotation == "bool":
        kwargs["action"] = argparse.BooleanOptionalAction
        kwargs.pop("metavar", None)
    elif annotation.startswith("tuple[Path"):
        kwargs["action"] = "append"  # repeatable: --extra A --extra B
        kwargs["type"] = Path
    elif annotation.startswith("tuple["):
        kwargs["nargs"] = "+"
        kwargs["type"] = float if "float" in annotation else str
        kwargs.setdefault("metavar", "X")
    else:
        base = annotation.split(" |")[0]
        kwargs["type"] = {"int": int, "float": float, "Path": Path}.get(base, str)
        if "choices" in field.metadata:
            kwargs["choices"] = field.metadata["choices"]
    group.add_argument(_flag(field, parent), **kwargs)


def add_options(group: Any, cls: type, nested: Mapping[str, type] | None = None) -> None:
    """Add one option per field of `cls` (fields named in `nested`: one per sub-field)."""
    for field in attrs.fields(cls):
        if not field.metadata.get("cli", True):
            continue
        inner = (nested or {}).get(field.name)
        if inner is None:
            add_field(group, field)
            continue
        for sub in attrs.fields(inner):
            add_field(group, sub, field)


def given_options(namespace: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of `cls` (dotted keys for nested ones) that the command line set."""
    names = {field.name for field in attrs.fields(cls)}
    return {key: value for key, value in vars(namespace).items() if key.partition(".")[0] in names}
