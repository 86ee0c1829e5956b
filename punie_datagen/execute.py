"""Running generated examples for real: fresh fixture copies, the sandbox, twice.

Each job renders its template, runs every code block in the sandbox on a fresh copy of
the fixture, renders the follow-up blocks and the answer from the real output, then runs
the same code on a second fresh copy; any difference rejects the example.

Time limits (a tool's timeout, the language server's, the sandbox's) are the one way machine
load could decide an example: a job during which one stopped anything is discarded and run
again from scratch with every time limit ``TIME_SCALES`` times longer; if one still stops it,
the example is rejected at stage ``limit`` with the limit named. The retries are listed in
``timings.json`` (they depend on load), the rejections in the manifest. Limits that count
work (tool calls, memory, output size) give the same result at any load and act as usual.
"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import attrs

from punie_datagen.example import Example, Message, Rejection
from punie_datagen.plan import Job
from punie_datagen.render import (
    RanSoFar,
    TemplateError,
    clean_code,
    clean_text,
    draft,
    template_key,
)
from punie_tools import timelimits
from punie_tools.codemode import format_tool_call, format_tool_response
from punie_tools.prompt import system_prompt
from punie_tools.registry import Registry
from punie_tools.sandbox import RunResult, Sandbox
from punie_tools.templates import ExampleTemplate
from punie_tools.workspace import Workspace

Outcome = Example | Rejection
TIME_SCALES = (1.0, 10.0)  # time limits of the first run of a job, then of its one retry


class Reject(Exception):
    """A job's example cannot be used; the message is the reason."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(reason)
        self.stage = stage


@attrs.frozen
class Context:
    """What a process needs to run jobs: the registry, its prompt and templates by key."""

    registry: Registry
    prompt: str
    templates: dict[str, ExampleTemplate]

    @classmethod
    def from_registry(cls, registry: Registry) -> Context:
        """Build the context of one process from a registry."""
        templates = {template_key(t): t for t in registry.templates()}
        return cls(registry, system_prompt(registry.tools()), templates)


def run_job(job: Job, ctx: Context) -> Outcome:
    """Render, execute twice and assemble one generated example (or say why not)."""
    try:
        return _run(job, ctx)
    except Reject as exc:
        return Rejection(job.id, "generated", exc.stage, str(exc), job.category)
    except TemplateError as exc:
        return Rejection(job.id, "generated", "render", str(exc), job.category)
    except Exception as exc:  # a broken tool or fixture rejects the example, not the run
        reason = f"{type(exc).__name__}: {exc}"
        return Rejection(job.id, "generated", "execute", reason, job.category)


def _run(job: Job, ctx: Context) -> Example:
    template = ctx.templates.get(job.template)
    if template is None:
        raise Reject("render", f"template {job.template} is not in the registry")
    first, session = draft(template, job.seed, job.index)
    fixture = ctx.registry.fixture(template.fixture)
    tools = ctx.registry.tools()
    codes: list[str] = []
    ran = RanSoFar()
    with tempfile.TemporaryDirectory(prefix="punie-datagen-") as tmp:
        with Workspace(fixture.materialize(Path(tmp) / "run1")) as ws:
            sandbox = Sandbox(tools, ws)
            for block in session.code_blocks():
                later = block != "code"
                code = clean_code(session.block(block, **ran.context())) if later else first.code
                if not code:
                    break
                codes.append(code)
                run = sandbox.run(code)
                ran.add(_reply(run, len(codes)), run.values)
        answer = clean_text(session.block("answer", **ran.context()))
        outputs = ran.outputs
        if not answer:
            raise Reject("render", "the answer block rendered empty")
        with Workspace(fixture.materialize(Path(tmp) / "run2")) as ws:
            sandbox = Sandbox(tools, ws)
            for n, (code, before) in enumerate(zip(codes, outputs, strict=True), start=1):
                again = sandbox.run(code).reply
                if again != before:
                    raise Reject(
                        "execute",
                        f"call {n} prints differently on a second run: "
                        + _difference(before, again),
                    )
    messages = [Message("system", ctx.prompt), Message("user", first.query)]
    for n, (code, output) in enumerate(zip(codes, outputs, strict=True)):
        call = format_tool_call(code)
        if n == 0 and first.preamble:
            call = f"{first.preamble}\n\n{call}"
        messages += [Message("assistant", call), Message("user", format_tool_response(output))]
    messages.append(Message("assistant", answer))
    return Example(job.id, "generated", tuple(messages))


def _reply(result: RunResult, n: int) -> str:
    if not result.ok:
        raise Reject("execute", f"call {n} failed: {result.error}")
    lines = [line.strip() for line in result.output.splitlines() if line.strip()]
    if not lines or all(line == "None" for line in lines):
        raise Reject("execute", f"call {n} prints nothing useful: {result.output.strip()!r}")
    return result.reply


def _difference(before: str, after: str) -> str:
    a, b = before.splitlines(), after.splitlines()
    for i, (x, y) in enumerate(zip(a, b, strict=False), start=1):
        if x != y:
            return f"line {i}: {x[:80]!r} then {y[:80]!r}"
    return f"{len(a)} lines then {len(b)} lines"


@attrs.frozen
class Executed:
    """A job's outcome, the seconds it took and the time limit that made it retry, if one did
    (timing is never part of the dataset)."""

    job: Job
    outcome: Outcome
    seconds: float
    retried: str | None = None


def run_within_limits(job: Job, ctx: Context) -> tuple[Outcome, str | None]:
    """``run_job`` under ``TIME_SCALES``: the outcome and the limit that forced a retry."""
    retried: str | None = None
    last = ""
    for scale in TIME_SCALES:
        with timelimits.watch(scale) as hits:
            outcome = run_job(job, ctx)
        if not hits:
            return outcome, retried
        retried, last = retried or hits[0], hits[0]
    reason = f"a time limit stopped it even x{TIME_SCALES[-1]:g} longer: {last}"
    return Rejection(job.id, "generated", "limit", reason, job.category), retried


def _timed(job: Job, ctx: Context) -> Executed:
    started = time.perf_counter()
    outcome, retried = run_within_limits(job, ctx)
    return Executed(job, outcome, time.perf_counter() - started, retried)


_WORKER: Context | None = None


def _init_worker() -> None:
    global _WORKER
    _WORKER = Context.from_registry(Registry.load())


def _run_in_worker(job: Job) -> Executed:
    assert _WORKER is not None
    return _timed(job, _WORKER)


def execute_jobs(
    jobs: Sequence[Job],
    registry: Registry,
    *,
    workers: int = 1,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Executed]:
    """Run every job; results come back in job order whatever the scheduling.

    With more than one worker each process loads the registry itself (plugins are found
    the same way: entry points and ``PUNIE_PLUGIN_PATH``).
    """
    results: list[Executed | None] = [None] * len(jobs)
    if workers <= 1 or len(jobs) <= 1:
        ctx = Context.from_registry(registry)
        for i, job in enumerate(jobs):
            done = _timed(job, ctx)
            results[i] = done
            if on_done:
                on_done(done.outcome)
    else:
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=spawn, initializer=_init_worker) as pool:
            futures = {pool.submit(_run_in_worker, job): i for i, job in enumerate(jobs)}
            for future in as_completed(futures):
                done = future.result()
                results[futures[future]] = done
                if on_done:
                    on_done(done.outcome)
    return [r for r in results if r is not None]
