"""``python -m punie_datagen`` in a test process: words for tokens, optional fault injection.

``python -m tests.datagen.driver [--kill-at N] [--trace FILE] -- CLI ARGS...`` counts tokens
as words (the embedded tokenizer is not needed to test the build) and, with ``--kill-at``,
SIGKILLs itself at its Nth file-system step in ``--out`` (`tests.faults`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from punie_datagen import tokens
from punie_datagen.cli import build_parser, main, options_from
from tests import faults


def words(messages: Sequence[Mapping[str, str]]) -> int:
    """A stand-in token count: words outside the system prompt."""
    return sum(len(m["content"].split()) for m in messages[1:])


def run(argv: list[str]) -> int:
    """Parse the driver's options, then run the CLI on the rest."""
    parser = argparse.ArgumentParser(prog="python -m tests.datagen.driver")
    parser.add_argument("--kill-at", type=int)
    parser.add_argument("--trace", type=Path)
    parser.add_argument("cli", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cli = args.cli[1:] if args.cli[:1] == ["--"] else args.cli
    tokens.set_loader(lambda: words)
    out = options_from(build_parser().parse_args(cli)).out
    out.parent.mkdir(parents=True, exist_ok=True)
    faults.install(out.parent, args.kill_at, args.trace)
    return main(cli)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
