"""Overhead of a Code Mode run against calling the same tool directly.

Usage: .venv/bin/python bench/sandbox.py [--repeat N]

In a temporary workspace holding one small file, times (median of N, after a warm-up run
that starts the pydantic-monty worker pool):

- direct:    ``read_file("notes.txt", workspace=ws)`` and writing the text to a buffer;
- code mode: ``Sandbox(...).run('print(read_file("notes.txt"))')``, the same call and print
  inside the sandbox (pre-check, monty session, host callback, result conversion);
- empty run: ``Sandbox(...).run('print("ok")')``, the sandbox's fixed cost without a tool.

Prints the times and the ratio code mode / direct measured in this one run; asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections.abc import Callable

from punie_text import punie_tools as text_tools
from punie_text.files import read_file

from punie_tools import Sandbox, Workspace


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    """The median wall time of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="timed runs per case")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, Workspace(tmp) as ws:
        (ws.root / "notes.txt").write_text("remember the milk\n", encoding="utf-8")
        sandbox = Sandbox(text_tools(), ws)

        def direct() -> None:
            io.StringIO().write(read_file("notes.txt", workspace=ws) + "\n")

        def code_mode() -> None:
            result = sandbox.run('print(read_file("notes.txt"))')
            if result.output != "remember the milk\n\n":
                raise RuntimeError(f"unexpected sandbox result: {result!r}")

        def empty() -> None:
            sandbox.run('print("ok")')

        start = time.perf_counter()
        code_mode()
        cold = time.perf_counter() - start
        t_direct = median_seconds(direct, args.repeat)
        t_code = median_seconds(code_mode, args.repeat)
        t_empty = median_seconds(empty, args.repeat)
    print(f"repeat={args.repeat} (median), one tool call + print")
    print(f"  first Code Mode run (starts the worker pool): {cold * 1e3:9.2f} ms")
    print(f"  direct call:                                  {t_direct * 1e6:9.1f} us")
    print(f"  Code Mode run:                                {t_code * 1e6:9.1f} us")
    print(f"  Code Mode run without a tool call:            {t_empty * 1e6:9.1f} us")
    print(f"  overhead per run: {(t_code - t_direct) * 1e6:.1f} us")
    print(f"  ratio Code Mode / direct: {t_code / t_direct:.1f}x")


if __name__ == "__main__":
    main()
