"""Render and run a few examples of one template, as the dataset build would, and print them.

    PUNIE_PLUGIN_PATH=results/chained-calls/plugins PYTHONPATH=.:plugins \
        .venv/bin/python results/chained-calls/render.py punie_chains/lsp_definition_refs -n 4

Each example is rendered with the build's default seed and run for real in the sandbox on a
fresh fixture copy (twice, as the build does); a rejection prints its stage and reason.
"""

from __future__ import annotations

import argparse

from punie_datagen.example import Rejection
from punie_datagen.execute import Context, run_job
from punie_datagen.plan import Job, job_id
from punie_tools.registry import Registry


def main() -> None:
    """Print ``-n`` renderings of the template named ``plugin/name``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", help="plugin/name, e.g. punie_chains/lsp_definition_refs")
    parser.add_argument("-n", type=int, default=3, help="how many renderings (default 3)")
    parser.add_argument("--start", type=int, default=0, help="first index (default 0)")
    parser.add_argument("--seed", type=int, default=33, help="the build's seed (default 33)")
    args = parser.parse_args()
    ctx = Context.from_registry(Registry.load())
    if args.template not in ctx.templates:
        names = ", ".join(k for k in sorted(ctx.templates) if k.startswith("punie_chains"))
        raise SystemExit(f"error: no template {args.template}; chain templates: {names}")
    for index in range(args.start, args.start + args.n):
        job = Job(job_id(args.template, index), args.template, index, args.seed, "?")
        outcome = run_job(job, ctx)
        print(f"===== {job.id}")
        if isinstance(outcome, Rejection):
            print(f"REJECTED at {outcome.stage}: {outcome.reason}")
            continue
        for message in outcome.messages[1:]:
            print(f"--- {message.role}\n{message.content}")


if __name__ == "__main__":
    main()
