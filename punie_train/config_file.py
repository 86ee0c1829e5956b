"""Reading a `TrainConfig`: defaults, then a YAML file with mlx-lm's keys, then CLI flags.

Unknown YAML keys are an error naming the key and the file; the flags are generated from
`TrainConfig`'s fields by `punie_tools.options_cli` (CLI > YAML > defaults, as mlx-lm's
`lora.py`).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import yaml

from punie_tools.options_cli import add_options, given_options
from punie_train.config import NESTED, UNSUPPORTED_MLX_KEYS, ConfigError, TrainConfig


def _coerce(value: Any, annotation: str, key: str, source: str) -> Any:
    if value is None:
        if "None" in annotation:
            return None
        raise ConfigError(f"{source}: {key} may not be null")
    try:
        if annotation.startswith("tuple[float"):
            items = value if isinstance(value, (list, tuple)) else [value]
            return tuple(float(item) for item in items)
        if annotation.startswith("tuple[str"):
            items = value if isinstance(value, (list, tuple)) else [value]
            return tuple(str(item) for item in items)
        if annotation == "bool":
            if isinstance(value, bool):
                return value
            raise TypeError
        if annotation == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise TypeError
            return int(value)
        if annotation == "float":
            if isinstance(value, bool):
                raise TypeError
            return float(value)  # PyYAML reads `1e-4` as a string
        if annotation.startswith("str"):
            return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: {key} should be {annotation}, got {value!r}") from None
    return value


def _nested_class(field: attrs.Attribute) -> type | None:
    return NESTED.get(field.name)


def _build(cls: type, data: Mapping[str, Any], source: str, prefix: str = "") -> Any:
    known = {field.name: field for field in attrs.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in known:
            if not prefix and key in UNSUPPORTED_MLX_KEYS:
                raise ConfigError(
                    f"{source}: {key!r} is an mlx-lm option punie_train does not support"
                )
            raise ConfigError(
                f"{source}: unknown key {dotted!r} (known: {', '.join(sorted(known))})"
            )
        field = known[key]
        nested = _nested_class(field)
        if nested is not None and value is not None:
            if isinstance(value, nested):
                kwargs[key] = value
                continue
            if not isinstance(value, Mapping):
                raise ConfigError(f"{source}: {dotted} should be a mapping, got {value!r}")
            kwargs[key] = _build(nested, value, source, prefix=f"{dotted}.")
        elif field.name == "optimizer_config":
            if not isinstance(value, Mapping):
                raise ConfigError(f"{source}: {dotted} should be a mapping, got {value!r}")
            kwargs[key] = value
        else:
            kwargs[key] = _coerce(value, str(field.type), dotted, source)
    try:
        return cls(**kwargs)
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping in a YAML config file, with a clear error for a missing or bad file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read config ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of mlx-lm keys at the top level")
    return data


def load_config(
    path: Path | None = None, overrides: Mapping[str, Any] | None = None
) -> TrainConfig:
    """Defaults, then the YAML file at `path`, then `overrides` (CLI flags, dotted keys allowed)."""
    data: dict[str, Any] = {}
    if path is not None:
        _build(TrainConfig, read_yaml(path), str(path))  # name the file in errors
        data = read_yaml(path)
    nested: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        head, _, tail = key.partition(".")
        if tail:
            nested.setdefault(head, {})[tail] = value
        else:
            nested[key] = value
    if (
        isinstance(nested.get("lr_schedule"), Mapping)
        and nested["lr_schedule"].get("name") == "none"
    ):
        nested["lr_schedule"] = None
    if data.get("lr_schedule") is None and "lr_schedule" in data and "lr_schedule" in nested:
        data["lr_schedule"] = {}
    return _build(TrainConfig, _merge(data, nested), "command line" if nested else str(path))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one option per TrainConfig knob (nested ones too); unset flags leave no attribute."""
    group = parser.add_argument_group("training (YAML keys as mlx-lm's; CLI > YAML > defaults)")
    add_options(group, TrainConfig, NESTED)


def cli_overrides(namespace: argparse.Namespace) -> dict[str, Any]:
    """The TrainConfig keys (dotted for nested ones) that were given on the command line."""
    return given_options(namespace, TrainConfig)
