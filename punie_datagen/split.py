"""A seeded train/valid split, stratified so each stratum keeps about the same ratio."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TypeVar

from punie_datagen.example import Example, ValidExample
from punie_datagen.render import derive_seed

E = TypeVar("E", bound=Example)


def stratum_of(example: ValidExample) -> str:
    """The datagen stratum: the example's category and first tool (``-`` for none)."""
    return f"{example.category}/{example.tools[0] if example.tools else '-'}"


def valid_count(size: int, valid_fraction: float) -> int:
    """How many of a stratum's examples go to valid (rounded half up, one stays in train)."""
    if size < 2:
        return 0
    return min(int(size * valid_fraction + 0.5), size - 1)


def split(
    examples: Sequence[E],
    *,
    seed: int,
    valid_fraction: float,
    stratum: Callable[[E], str],
) -> tuple[list[E], list[E]]:
    """Split into (train, valid); each list in a seeded shuffled order."""
    groups: dict[str, list[E]] = {}
    for example in examples:
        groups.setdefault(stratum(example), []).append(example)
    train: list[E] = []
    valid: list[E] = []
    for name in sorted(groups):
        members = sorted(groups[name], key=lambda e: e.id)
        random.Random(derive_seed(seed, "split", name)).shuffle(members)
        cut = valid_count(len(members), valid_fraction)
        valid += members[:cut]
        train += members[cut:]
    return _shuffled(train, seed, "train"), _shuffled(valid, seed, "valid")


def _shuffled(examples: list[E], seed: int, part: str) -> list[E]:
    ordered = sorted(examples, key=lambda e: e.id)
    random.Random(derive_seed(seed, "order", part)).shuffle(ordered)
    return ordered
