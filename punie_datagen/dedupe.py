"""Exact and near-duplicate detection with datasketch's MinHash LSH.

LSH only proposes candidates (at a lower threshold, to miss fewer); the decision is the
exact Jaccard similarity of character shingles, so results do not depend on hashing luck.
"""

from __future__ import annotations

import re

from datasketch import MinHash, MinHashLSH

from punie_datagen.example import Example

SHINGLE = 5
NUM_PERM = 128
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case with runs of whitespace collapsed to one space."""
    return _SPACES.sub(" ", text).strip().lower()


def shingles(text: str, size: int = SHINGLE) -> frozenset[str]:
    """Character shingles of the normalised text (the whole text if shorter)."""
    norm = normalise(text)
    if len(norm) <= size:
        return frozenset({norm})
    return frozenset(norm[i : i + size] for i in range(len(norm) - size + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two shingle sets."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def example_text(example: Example) -> str:
    """What duplicates are judged on: the user's queries and the code of every call."""
    return "\n".join([*example.queries(), *example.codes()])


class NearDuplicateIndex:
    """Texts added under keys; ``find`` returns the most similar one at or over the threshold."""

    def __init__(self, threshold: float = 0.85, num_perm: int = NUM_PERM) -> None:
        self.threshold = threshold
        self._num_perm = num_perm
        self._lsh = MinHashLSH(threshold=max(0.3, threshold - 0.15), num_perm=num_perm)
        self._shingles: dict[str, frozenset[str]] = {}
        self._order: dict[str, int] = {}
        self._exact: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._shingles)

    def __contains__(self, key: object) -> bool:
        return key in self._shingles

    def _minhash(self, grams: frozenset[str]) -> MinHash:
        m = MinHash(num_perm=self._num_perm, seed=1)
        m.update_batch([g.encode() for g in sorted(grams)])
        return m

    def find(self, text: str) -> tuple[str, float] | None:
        """(key, similarity) of the closest stored text at or over the threshold, or None."""
        exact = self._exact.get(normalise(text))
        if exact is not None:
            return exact, 1.0
        grams = shingles(text)
        best: tuple[str, float] | None = None
        for found in self._lsh.query(self._minhash(grams)):
            key = str(found)
            score = jaccard(grams, self._shingles[key])
            if score < self.threshold:
                continue
            if (
                best is None
                or score > best[1]
                or (score == best[1] and self._order[key] < self._order[best[0]])
            ):
                best = (key, score)
        return best

    def add(self, key: str, text: str) -> None:
        """Store a text under a unique key."""
        if key in self._shingles:
            raise KeyError(f"duplicate key {key!r}")
        grams = shingles(text)
        self._shingles[key] = grams
        self._order[key] = len(self._order)
        self._exact.setdefault(normalise(text), key)
        self._lsh.insert(key, self._minhash(grams))
