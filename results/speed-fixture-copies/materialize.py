"""A fixture copy with its setup run on every copy vs a copy of the process's prepared copy.

`Fixture.materialize` used to copy the fixture and run its setup (the sample project's
scripted git history: ~10 git commands) for every generated example's two runs and every eval
query; it now runs the setup once per process and copies the prepared copy. Interleaved, 15
times each, on the plugin fixture that has a setup.
Run: PYTHONPATH=.:plugins .venv/bin/python results/speed-fixture-copies/materialize.py
Prints; asserts nothing.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from punie_tools.registry import Registry


def main() -> None:
    registry = Registry.load()
    [fixture] = [
        registry.fixture(name) for name in registry.fixtures() if registry.fixture(name).setup
    ]
    assert fixture.setup is not None
    ignored = shutil.ignore_patterns("__pycache__", "*.pyc", ".ruff_cache")
    every, prepared = [], []
    with tempfile.TemporaryDirectory() as tmp:
        fixture.materialize(Path(tmp) / "warm")  # the one setup run of this process
        for index in range(15):
            target = Path(tmp) / f"old-{index}" / fixture.name
            start = time.perf_counter()
            shutil.copytree(fixture.path, target, ignore=ignored)
            fixture.setup(target)
            every.append(time.perf_counter() - start)
            start = time.perf_counter()
            fixture.materialize(Path(tmp) / f"new-{index}")
            prepared.append(time.perf_counter() - start)
    old, new = statistics.median(every) * 1e3, statistics.median(prepared) * 1e3
    print(
        f"fixture {fixture.name}: setup on every copy {old:.0f} ms, "
        f"copy of the prepared copy {new:.0f} ms ({old / new:.2f}x), medians of 15"
    )


if __name__ == "__main__":
    main()
