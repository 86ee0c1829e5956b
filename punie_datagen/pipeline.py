"""``build_dataset``: foundation + generated + extra -> validated, merged, split, written."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Sequence

import attrs

from punie_datagen import manifest as mf
from punie_datagen import output
from punie_datagen.example import Example, Rejection, ValidExample
from punie_datagen.execute import Outcome, execute_jobs
from punie_datagen.foundation import Source, has_invented_response, load_foundation, load_source
from punie_datagen.jsonl import sha256_file, write_atomic, write_examples
from punie_datagen.merge import merge
from punie_datagen.options import DatagenOptions
from punie_datagen.plan import Plan, plan_jobs
from punie_datagen.tokens import TokenCounter, load_counter
from punie_datagen.typecheck import StubTypeChecker
from punie_datagen.validate import Validator
from punie_tools.prompt import system_prompt
from punie_tools.registry import Registry
from punie_tools.stubs import stubs

TIMINGS = output.TIMINGS


class Reporter:
    """Hooks a console uses to follow a build; every method does nothing by default."""

    def stage(self, name: str) -> None:
        """A new stage begins."""

    def executing(self, total: int) -> None:
        """Generated examples start running (``total`` of them)."""

    def executed(self, outcome: Outcome) -> None:
        """One generated example finished running."""

    def warn(self, message: str) -> None:
        """Something the user should know that does not stop the build."""


def sha256_text(text: str) -> str:
    """The hex SHA-256 of a text."""
    return hashlib.sha256(text.encode()).hexdigest()


def build_dataset(
    options: DatagenOptions,
    *,
    registry: Registry | None = None,
    token_counter: TokenCounter | bool | None = True,
    reporter: Reporter | None = None,
) -> mf.Manifest:
    """Build ``options.out`` and return its manifest.

    ``token_counter``: True loads the embedded tokenizer (skipping the check with a
    warning if it cannot), False skips the check, or pass a counter.
    """
    report = reporter or Reporter()
    started = time.perf_counter()
    timings: dict[str, float] = {}
    registry = registry or Registry.load()
    specs = registry.tools()
    tools = {s.name: s for s in specs}
    prompt = system_prompt(specs)
    warnings = [f"plugin error: {e}" for e in registry.errors]
    for w in warnings:
        report.warn(w)

    report.stage("reading the foundation and extra transcripts")
    foundation = load_foundation(options.foundation)
    extras = _load_extras(options)

    report.stage("planning generated examples")
    eval_pairs = [(q.id, q.query) for q in registry.eval_queries()]
    plan = plan_jobs(
        registry.templates(),
        tools,
        registry.fixtures(),
        eval_pairs,
        seed=options.seed,
        per_tool=options.per_tool if specs else 0,
        threshold=options.near_duplicate,
    )
    for r in plan.rejections:
        report.warn(f"{r.id}: {r.reason}")
    timings["read_and_plan"] = time.perf_counter() - started

    report.executing(len(plan.jobs))
    t0 = time.perf_counter()
    executed = execute_jobs(plan.jobs, registry, workers=options.workers, on_done=report.executed)
    timings["execute"] = time.perf_counter() - t0
    outcomes = [e.outcome for e in executed]
    generated = [o for o in outcomes if isinstance(o, Example)]
    rejected: list[Rejection] = [
        *plan.rejections,
        *(o for o in outcomes if isinstance(o, Rejection)),
    ]

    report.stage("validating")
    t0 = time.perf_counter()
    counter = _counter(token_counter, report, warnings)
    checker = StubTypeChecker(stubs(specs)) if options.type_check else None
    validator = Validator(tools, prompt, options.max_seq_length, counter, checker)
    valid_examples: list[ValidExample] = []
    for example in [*foundation.examples, *generated, *(e for s in extras for e in s.examples)]:
        checked = validator.validate(example)
        if isinstance(checked, Rejection):
            rejected.append(checked)
        else:
            valid_examples.append(checked)
    timings["validate"] = time.perf_counter() - t0

    report.stage("deduplicating and splitting")
    merged = merge(
        valid_examples,
        eval_pairs,
        seed=options.seed,
        valid_fraction=options.valid_fraction,
        threshold=options.near_duplicate,
    )
    rejected += merged.dropped

    report.stage("writing")
    out = options.out
    output.begin(out)  # a build killed from here on is detected by output.dataset_problem
    write_examples(out / "train.jsonl", merged.train)
    write_examples(out / "valid.jsonl", merged.valid)
    files = {
        name: {
            "examples": len(part),
            "sha256": sha256_file(out / name),
            "ids": [e.id for e in part],
        }
        for name, part in (("train.jsonl", merged.train), ("valid.jsonl", merged.valid))
    }
    kept = [*merged.train, *merged.valid]
    missing = [n for n in tools if not any(n in e.tools for e in merged.train)]
    if missing:
        warnings.append(f"tools with no training example: {', '.join(missing)}")
    manifest = mf.Manifest(
        name=options.name,
        options=options.recorded(),
        plugins=registry.plugin_names(),
        tools={s.name: s.category for s in specs},
        system_prompt_sha256=sha256_text(prompt),
        stubs_sha256=sha256_text(stubs(specs)),
        sources=_sources(foundation, extras, generated, plan, kept),
        templates=[p.to_json() for p in plan.templates],
        counts=mf.counts(merged.train, merged.valid, rejected, tool_names=tools),
        tokens={
            "counted": counter is not None,
            "max_seq_length": options.max_seq_length,
            "train": mf.token_stats(validator.lengths, merged.train),
            "valid": mf.token_stats(validator.lengths, merged.valid),
        },
        files=files,
        repairs=mf.repairs(kept),
        rejected=[r.to_json() for r in sorted(rejected, key=lambda r: r.id)],
        plugin_errors=[str(e) for e in registry.errors],
        warnings=warnings,
        inputs_sha256=mf.inputs_sha256(registry),
    )
    write_atomic(out / mf.MANIFEST, manifest.to_json())
    timings["total"] = time.perf_counter() - started
    per_template: dict[str, list[float]] = {}
    for e in executed:
        per_template.setdefault(e.job.template, []).append(e.seconds)
    timing_data = {
        "workers": options.workers,
        "seconds": timings,
        "generated_jobs": len(plan.jobs),
        "retried_after_a_time_limit": {e.job.id: e.retried for e in executed if e.retried},
        "job_seconds_by_template": {
            k: {"jobs": len(v), "total": round(sum(v), 3)} for k, v in sorted(per_template.items())
        },
    }
    write_atomic(out / TIMINGS, json.dumps(timing_data, indent=2, sort_keys=True) + "\n")
    output.finish(out)
    return manifest


def _load_extras(options: DatagenOptions) -> list[Source]:
    extras = []
    for i, path in enumerate(options.extra):
        name = "extra" if len(options.extra) == 1 else f"extra{i + 1}"
        source = load_source("extra", path)
        examples = tuple(
            attrs.evolve(e, id=f"{name}:{e.id.split(':', 1)[1]}") for e in source.examples
        )
        extras.append(Source(name, source.location, examples, source.files))
    return extras


def _counter(
    token_counter: TokenCounter | bool | None, report: Reporter, warnings: list[str]
) -> TokenCounter | None:
    if token_counter is False or token_counter is None:
        return None
    if token_counter is not True:
        return token_counter
    counter, why = load_counter()
    if counter is None:
        message = f"token length check skipped: {why}"
        warnings.append(message)
        report.warn(message)
    return counter


def _sources(
    foundation: Source,
    extras: Sequence[Source],
    generated: Sequence[Example],
    plan: Plan,
    kept: Sequence[Example],
) -> dict[str, object]:
    kept_by_source = Counter(e.source for e in kept)
    prompts = Counter(
        "inserted" if not e.messages or e.messages[0].role != "system" else "rewritten"
        for e in foundation.examples
    )
    return {
        "foundation": {
            "location": foundation.location,
            "files": foundation.files,
            "read": len(foundation.examples),
            "kept": kept_by_source["foundation"],
            "system_prompts": dict(sorted(prompts.items())),
            "invented_tool_responses": {
                "read": sum(has_invented_response(e) for e in foundation.examples),
                "kept": sum(has_invented_response(e) for e in kept if e.source == "foundation"),
            },
        },
        "generated": {
            "planned": len(plan.jobs),
            "render_rejected": len(plan.rejections),
            "executed_ok": len(generated),
            "kept": kept_by_source["generated"],
        },
        "extra": [
            {"location": s.location, "files": s.files, "read": len(s.examples)} for s in extras
        ],
    }
