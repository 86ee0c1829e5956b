"""Per-file time of each domain validator against a bare ``libcst.parse_module``.

Usage: .venv/bin/python bench/domain.py [--lines N] [--repeat N]

Builds one Python file of about N lines (default 2,000) by repeating the fixture files of
the three domain plugins (tdom components, svcs services, tdom-svcs middleware and routes),
with names made unique per copy, then times every validator on it against a bare parse
of the same text. Prints seconds and ratios; asserts nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import re
import statistics
import time
from collections.abc import Callable

import libcst

from tests.plugins.domain_cases import FIXTURES, VALIDATORS

_CLASS_OR_DEF = re.compile(r"^(\s*)(class|def|async def) (\w+)", re.MULTILINE)


def _renamed(source: str, copy: int) -> str:
    """The source with every class/def it defines, and each use of them, suffixed by copy."""
    names = sorted({m[3] for m in _CLASS_OR_DEF.finditer(source) if not m[3].startswith("__")})
    if not names:
        return source
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    return pattern.sub(lambda m: f"{m[1]}_{copy}", source)


def generated_file(lines: int) -> str:
    """About ``lines`` lines of tdom/svcs/tdom-svcs code, every definition renamed per copy."""
    sources = [
        path.read_text(encoding="utf-8")
        for root in FIXTURES.values()
        for path in sorted(root.rglob("*.py"))
    ]
    chunks: list[str] = []
    total = copy = 0
    while total < lines:
        for source in sources:
            renamed = _renamed(source, copy)
            chunks.append(renamed)
            total += renamed.count("\n")
            if total >= lines:
                break
        copy += 1
    return "\n".join(chunks)


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    """Time every validator on one generated file and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000, help="size of the generated file")
    parser.add_argument("--repeat", type=int, default=5, help="paired runs per validator")
    args = parser.parse_args()
    source = generated_file(args.lines)
    print(f"generated file: {source.count(chr(10)) + 1} lines, {len(source):,} characters")
    print("each validator run is paired with a bare parse just before it; the ratio is the")
    print("median of the pairs (robust to load on a shared machine), times are the best run")
    parses: list[float] = []
    print(f"{'tool':32} {'best s':>7} {'ratio':>6}  issues")
    for tool, (_, validate) in sorted(VALIDATORS.items()):
        result = validate(source)
        pairs = []
        for _ in range(args.repeat):
            parse = timed(lambda: libcst.parse_module(source))
            run = timed(lambda validate=validate: validate(source))
            parses.append(parse)
            pairs.append((run, run / parse))
        best = min(run for run, _ in pairs)
        ratio = statistics.median(r for _, r in pairs)
        print(f"{tool:32} {best:7.3f} {ratio:5.2f}x  {len(result.issues)}")
    print(f"{'libcst.parse_module (bare)':32} {min(parses):7.3f} {1:5.2f}x")


if __name__ == "__main__":
    main()
