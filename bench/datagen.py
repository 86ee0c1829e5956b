"""Benchmark punie_datagen: generation speed with 1 and 2 workers, and the default run.

    .venv/bin/python bench/datagen.py [--sample N] [--no-full] [--out DIR]

Prints examples per second for executing a sample of the default run's generated examples
with --workers 1 and --workers 2 (the same jobs, measured in this one run, with their
ratio), then the wall time of the whole default build (written to a temporary folder).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from punie_datagen import DatagenOptions, build_dataset
from punie_datagen.execute import execute_jobs
from punie_datagen.plan import Job, plan_jobs
from punie_tools import Registry


def sample_jobs(registry: Registry, count: int) -> list[Job]:
    """``count`` jobs of the default plan, spread over its templates."""
    options = DatagenOptions()
    tools = {s.name: s for s in registry.tools()}
    eval_pairs = [(q.id, q.query) for q in registry.eval_queries()]
    plan = plan_jobs(
        registry.templates(),
        tools,
        registry.fixtures(),
        eval_pairs,
        seed=options.seed,
        per_tool=options.per_tool,
    )
    step = max(1, len(plan.jobs) // count)
    return list(plan.jobs[::step][:count])


def rate(jobs: list[Job], registry: Registry, workers: int) -> float:
    """Examples per second executing ``jobs`` with ``workers`` processes."""
    started = time.perf_counter()
    execute_jobs(jobs, registry, workers=workers)
    return len(jobs) / (time.perf_counter() - started)


def main() -> None:
    """Run the benchmark and print its numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=24, help="generated examples to time")
    parser.add_argument("--no-full", action="store_true", help="skip the whole default run")
    parser.add_argument("--out", type=Path, help="keep the default run's files in this folder")
    args = parser.parse_args()
    registry = Registry.load()
    jobs = sample_jobs(registry, args.sample)
    print(f"cpus: {os.cpu_count()}, sample: {len(jobs)} generated examples (each run twice)")
    one = rate(jobs, registry, 1)
    two = rate(jobs, registry, 2)
    print(f"--workers 1: {one:.2f} examples/s")
    print(f"--workers 2: {two:.2f} examples/s  (x{two / one:.2f} of 1 worker)")
    if args.no_full:
        return
    with tempfile.TemporaryDirectory() as tmp:
        options = DatagenOptions(out=args.out or Path(tmp) / "phase33")
        started = time.perf_counter()
        manifest = build_dataset(options)
        wall = time.perf_counter() - started
    total = manifest.train_count + manifest.valid_count
    print(
        f"default run (--workers {options.workers}, --per-tool {options.per_tool}): "
        f"{wall:.1f} s wall for {total} examples "
        f"({manifest.sources['generated']['planned']} generated and executed)"
    )


if __name__ == "__main__":
    main()
