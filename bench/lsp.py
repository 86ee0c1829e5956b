"""First and warm latency of each LSP tool on a fresh sample_project copy.

Usage: .venv/bin/python bench/lsp.py [--repeats 20]

The server is started once (timed on its own), then each tool's first request and
``repeats`` warm requests are timed; the server's pid is read before and after every
request to show that warm requests never restart it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from punie_lsp.tools import (
    document_symbols,
    find_references,
    goto_definition,
    hover,
    lsp_session,
    workspace_symbols,
)

from punie_tools import Registry, Workspace

CALLS: list[tuple[str, Callable[[Workspace], Any]]] = [
    ("goto_definition", lambda ws: goto_definition("inventory/orders.py", 25, 28, "Product", ws)),
    ("find_references", lambda ws: find_references("inventory/models.py", 19, 7, "Product", ws)),
    ("hover", lambda ws: hover("inventory/warehouse.py", 31, 9, "add_product", ws)),
    ("document_symbols", lambda ws: document_symbols("inventory/warehouse.py", ws)),
    ("workspace_symbols", lambda ws: workspace_symbols("stock", ws)),
]


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one row per tool."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="warm requests per tool")
    args = parser.parse_args(argv)
    fixture = Registry.load().fixture("sample_project")
    with tempfile.TemporaryDirectory(prefix="punie-bench-lsp-") as tmp:
        with Workspace(fixture.materialize(Path(tmp))) as ws:
            session = lsp_session(ws)
            start_ms, client = _timed(session.client)
            pid = client.pid
            command = " ".join(client.command)
            print(f"server: {command} (pid {pid}), position encoding {client.encoding}")
            print(f"start + initialize: {start_ms:.1f} ms\n")
            print(f"{'tool':<18} {'first ms':>9} {'warm median':>12} {'warm p90':>9}", end="")
            print(f" {'first/warm':>11}")
            pids: set[int | None] = {pid}
            failures = []
            for name, call in CALLS:
                first_ms, result = _timed(lambda call=call: call(ws))
                if not result.success:
                    failures.append(f"{name}: {result.parse_error}")
                pids.add(session.pid)
                warm = []
                for _ in range(args.repeats):
                    ms, _ = _timed(lambda call=call: call(ws))
                    warm.append(ms)
                    pids.add(session.pid)
                median = statistics.median(warm)
                p90 = statistics.quantiles(warm, n=10)[-1] if len(warm) > 1 else warm[0]
                print(
                    f"{name:<18} {first_ms:>9.2f} {median:>12.2f} {p90:>9.2f} "
                    f"{first_ms / median:>10.1f}x"
                )
            requests = len(CALLS) * (args.repeats + 1)
            print(f"\nserver pids seen over {requests} requests: {sorted(pids, key=str)}")
            restarted = pids != {pid}
            print("server restarted: " + ("YES" if restarted else "no (same pid throughout)"))
        print(f"server running after the workspace closed: {Path(f'/proc/{pid}').exists()}")
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if restarted or failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
