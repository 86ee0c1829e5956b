"""Exact and near-duplicate detection with datasketch's MinHash LSH.

LSH only proposes candidates (at a lower threshold, to miss fewer); the decision is the
exact Jaccard similarity of character shingles, so results do not depend on hashing luck.
"""

from __future__ import annotations

import functools
import re
import zlib

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
    if not norm:
        return frozenset()
    if len(norm) <= size:
        return frozenset({norm})
    return frozenset(norm[i : i + size] for i in range(len(norm) - size + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two shingle sets."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def example_parts(example: Example) -> tuple[str, str]:
    """What duplicates are judged on: the user's queries, and the code of every call."""
    return "\n".join(example.queries()), "\n".join(example.codes())


@functools.cache
def _bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """LSH (bands, rows) for a candidate threshold below the decision threshold.

    LSH only proposes candidates, so it is tuned lower to miss fewer; computing the
    parameters is slow, hence the cache.
    """
    lsh = MinHashLSH(threshold=max(0.3, threshold - 0.15), num_perm=num_perm)
    return lsh.b, lsh.r


class NearDuplicateIndex:
    """Texts of one or more parts stored under keys.

    Two texts are near duplicates when every part is at least ``threshold`` similar (so
    the same code asked for in clearly different words is kept: that is a paraphrase,
    not a duplicate). ``find`` returns the most similar stored text.
    """

    def __init__(self, threshold: float = 0.85, num_perm: int = NUM_PERM) -> None:
        self.threshold = threshold
        self._num_perm = num_perm
        self._lsh = MinHashLSH(num_perm=num_perm, params=_bands(threshold, num_perm))
        self._shingles: dict[str, tuple[frozenset[str], ...]] = {}
        self._order: dict[str, int] = {}
        self._exact: dict[tuple[str, ...], str] = {}
        self._empty = MinHash(num_perm=num_perm, seed=1, hashfunc=zlib.crc32)
        self._last: tuple[tuple[str, ...], tuple[frozenset[str], ...], MinHash] | None = None

    def __len__(self) -> int:
        return len(self._shingles)

    def __contains__(self, key: object) -> bool:
        return key in self._shingles

    def _sketch(self, parts: tuple[str, ...]) -> tuple[tuple[frozenset[str], ...], MinHash]:
        """Shingles and MinHash of a text (the last one is kept: add() follows find())."""
        if self._last is not None and self._last[0] == parts:
            return self._last[1], self._last[2]
        grams = tuple(shingles(p) for p in parts)
        m = self._empty.copy()  # copying skips recomputing the permutations
        tagged = sorted({f"{i}:{g}" for i, part in enumerate(grams) for g in part})
        m.update_batch([g.encode() for g in tagged])
        self._last = (parts, grams, m)
        return grams, m

    def find(self, *parts: str) -> tuple[str, float] | None:
        """(key, similarity) of the closest stored text at or over the threshold, or None."""
        exact = self._exact.get(tuple(normalise(p) for p in parts))
        if exact is not None:
            return exact, 1.0
        grams, sketch = self._sketch(parts)
        best: tuple[str, float] | None = None
        for found in self._lsh.query(sketch):
            key = str(found)
            stored = self._shingles[key]
            if len(stored) != len(grams):
                continue
            score = min(jaccard(a, b) for a, b in zip(grams, stored, strict=True))
            if score < self.threshold:
                continue
            if (
                best is None
                or score > best[1]
                or (score == best[1] and self._order[key] < self._order[best[0]])
            ):
                best = (key, score)
        return best

    def add(self, key: str, *parts: str) -> None:
        """Store a text (one or more parts) under a unique key."""
        if key in self._shingles:
            raise KeyError(f"duplicate key {key!r}")
        grams, sketch = self._sketch(parts)
        self._shingles[key] = grams
        self._order[key] = len(self._order)
        self._exact.setdefault(tuple(normalise(p) for p in parts), key)
        self._lsh.insert(key, sketch)
