"""The dataset manifest: sources, counts, token statistics, hashes and every rejection."""

from __future__ import annotations

import hashlib
import json
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from punie_datagen.example import SOURCES, Example, Rejection, ValidExample
from punie_datagen.validate import RULES_VERSION
from punie_tools.prompt import system_prompt
from punie_tools.registry import Registry
from punie_tools.stubs import stubs

MANIFEST = "manifest.json"


@attrs.frozen
class Manifest:
    """What a build produced and from what; ``manifest.json`` holds exactly this."""

    name: str
    options: dict[str, Any]
    plugins: list[str]
    tools: dict[str, str]
    system_prompt_sha256: str
    stubs_sha256: str
    sources: dict[str, Any]
    templates: list[dict[str, Any]]
    counts: dict[str, Any]
    tokens: dict[str, Any]
    files: dict[str, Any]
    repairs: dict[str, Any]
    rejected: list[dict[str, Any]]
    plugin_errors: list[str]
    warnings: list[str]
    inputs_sha256: str = ""

    def to_json(self) -> str:
        """The manifest as stable JSON text (sorted keys, no timestamps)."""
        return json.dumps(attrs.asdict(self), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_file(cls, path: Path) -> Manifest:
        """Read a manifest.json."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(**{f.name: data[f.name] for f in attrs.fields(cls) if f.name in data})

    @property
    def train_count(self) -> int:
        """Examples in train.jsonl."""
        return int(self.files["train.jsonl"]["examples"])

    @property
    def valid_count(self) -> int:
        """Examples in valid.jsonl."""
        return int(self.files["valid.jsonl"]["examples"])


def _stable(value: object) -> object:
    """A JSON-ready form of a pool value whose text does not depend on hashing or identity."""
    if attrs.has(type(value)):
        return {f.name: _stable(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, Mapping):
        return {str(k): _stable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((_stable(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [_stable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def inputs_sha256(registry: Registry) -> str:
    """One hash of what generated examples are made from: the system prompt, the tools' stubs,
    every template with its source, fixture and pools, and the validator's rules version.

    A dataset whose manifest holds another value was built from other plugins or templates.
    """
    specs = registry.tools()
    templates = sorted(
        [t.plugin, t.name, t.fixture, t.source, _stable(dict(t.context))]
        for t in registry.templates()
    )
    text = json.dumps(
        [system_prompt(specs), stubs(specs), templates, RULES_VERSION],
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def counts(
    train: Sequence[ValidExample],
    valid: Sequence[ValidExample],
    rejected: Sequence[Rejection],
    *,
    tool_names: Iterable[str],
) -> dict[str, Any]:
    """Counts per category (by source, rejected, split), per tool and split, per source."""
    by_category: dict[str, Counter[str]] = {}
    for part, examples in (("train", train), ("valid", valid)):
        for e in examples:
            row = by_category.setdefault(e.category, Counter())
            row[part] += 1
            row[e.source] += 1
    for r in rejected:
        by_category.setdefault(r.category, Counter())["rejected"] += 1
    columns = [*SOURCES, "rejected", "train", "valid"]
    by_tool = {name: {"train": 0, "valid": 0} for name in tool_names}
    for part, examples in (("train", train), ("valid", valid)):
        for e in examples:
            for name in set(e.tools):
                by_tool.setdefault(name, {"train": 0, "valid": 0})[part] += 1
    by_source = {s: {"train": 0, "valid": 0, "rejected": 0} for s in SOURCES}
    for part, examples in (("train", train), ("valid", valid)):
        for e in examples:
            by_source[e.source][part] += 1
    for r in rejected:
        by_source[r.source]["rejected"] += 1
    return {
        "train": len(train),
        "valid": len(valid),
        "rejected": len(rejected),
        "by_category": {c: {k: by_category[c][k] for k in columns} for c in sorted(by_category)},
        "by_tool": dict(sorted(by_tool.items())),
        "by_source": by_source,
        "rejected_by_stage": dict(sorted(Counter(r.stage for r in rejected).items())),
    }


def token_stats(lengths: Mapping[str, int], examples: Sequence[Example]) -> dict[str, Any]:
    """min / mean / median / p95 / max token length of the examples that were counted."""
    values = sorted(lengths[e.id] for e in examples if e.id in lengths)
    if not values:
        return {"examples": 0}
    p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
    return {
        "examples": len(values),
        "min": values[0],
        "mean": round(statistics.fmean(values), 1),
        "median": statistics.median(values),
        "p95": p95,
        "max": values[-1],
    }


def repairs(examples: Iterable[Example]) -> dict[str, Any]:
    """The repairs made, counted by kind and listed per example id."""
    per_example = {e.id: list(e.repairs) for e in examples if e.repairs}
    kinds = Counter(r for rs in per_example.values() for r in rs)
    return {"counts": dict(sorted(kinds.items())), "examples": dict(sorted(per_example.items()))}
