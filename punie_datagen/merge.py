"""Merging all sources: drop eval-query leaks and duplicates, then split the rest."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from punie_datagen.dedupe import NearDuplicateIndex, example_parts
from punie_datagen.example import Example, Rejection, ValidExample
from punie_datagen.split import split, stratum_of


@attrs.frozen
class MergeResult:
    """Where every input example went: train, valid, or dropped with a reason."""

    train: tuple[ValidExample, ...]
    valid: tuple[ValidExample, ...]
    dropped: tuple[Rejection, ...]


def merge(
    examples: Sequence[ValidExample],
    eval_queries: Sequence[tuple[str, str]],
    *,
    seed: int,
    valid_fraction: float = 0.1,
    threshold: float = 0.85,
) -> MergeResult:
    """Drop leaks of ``(id, query)`` eval queries and duplicates (earlier examples win),
    then split the rest stratified by category and first tool (``split.stratum_of``)."""
    leaks = NearDuplicateIndex(threshold)
    for query_id, text in eval_queries:
        if query_id not in leaks:
            leaks.add(query_id, text)
    seen = NearDuplicateIndex(threshold)
    kept: list[ValidExample] = []
    dropped: list[Rejection] = []
    for example in examples:
        reason = _leak(example, leaks)
        if reason is None:
            reason = _duplicate(example, seen)
        if reason is not None:
            stage, text, match = reason
            dropped.append(
                Rejection(example.id, example.source, stage, text, example.category, match)
            )
            continue
        if example.id in seen:
            raise ValueError(f"two examples share the id {example.id!r}")
        seen.add(example.id, *example_parts(example))
        kept.append(example)
    train, valid = split(kept, seed=seed, valid_fraction=valid_fraction, stratum=stratum_of)
    return MergeResult(tuple(train), tuple(valid), tuple(dropped))


def _leak(example: Example, leaks: NearDuplicateIndex) -> tuple[str, str, str] | None:
    for query in example.queries():
        found = leaks.find(query)
        if found is not None:
            key, score = found
            what = "equal to" if score == 1.0 else f"near-duplicate ({score:.2f}) of"
            return "leakage", f"query {what} eval query {key}", key
    return None


def _duplicate(example: Example, seen: NearDuplicateIndex) -> tuple[str, str, str] | None:
    found = seen.find(*example_parts(example))
    if found is None:
        return None
    key, score = found
    what = "exact duplicate" if score == 1.0 else f"near duplicate ({score:.2f})"
    return "dedupe", f"{what} of {key}", key
