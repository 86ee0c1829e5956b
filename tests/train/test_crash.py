"""SIGKILL training at seeded moments, resume it: the bytes of a run never interrupted.

Each trial starts `tests.train.crash_driver` (the tiny model, checkpoints and validations every
two iterations) and kills it: at a file-system step drawn from the reference run's trace (in a
checkpoint, in the best adapter, anywhere) with what that step wrote torn, or after a random
delay. Then the run directory must show no half-written file under a name a reader uses, and
``--resume`` must take over the dead run's lock and end with adapters, checkpoints, config and
losses equal to the reference's.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import attrs
import mlx.core as mx
import pytest
import yaml

from punie_train.checkpoint import ADAPTER_CONFIG, ADAPTER_WEIGHTS, OPTIMIZER_STATE, STATE
from punie_train.progress import LOG_NAME
from punie_train.runlock import LOCK_NAME

SEED = 17
REPO = Path(__file__).parents[2]
COMPARED = ("adapters", "adapters-best", "checkpoints", "train_config.yaml")
LOSSES = ("event", "iteration", "update", "train_loss", "learning_rate", "val_loss", "best")


@attrs.frozen
class Reference:
    """The uninterrupted run: its directory, numbered file-system steps, seconds of writing."""

    run_dir: Path
    steps: list[dict[str, Any]]
    write_seconds: float


def driver(model_dir: Path, run_dir: Path, *args: str) -> list[str]:
    """The command line of one crash-driver process."""
    return [sys.executable, "-m", "tests.train.crash_driver", str(model_dir), str(run_dir), *args]


def run(
    command: list[str], kill_after: float | None = None, trace: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run a driver; with ``kill_after``, SIGKILL it that long after its first traced step.

    Returns the finished process and the seconds from its first traced step to its end.
    """
    proc = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    first = time.perf_counter()
    if trace is not None:
        while not trace.exists() and proc.poll() is None:
            time.sleep(0.01)
        first = time.perf_counter()
    if kill_after is not None:
        time.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    done = subprocess.CompletedProcess(command, proc.returncode, out, err)
    return done, time.perf_counter() - first


def files(run_dir: Path) -> dict[str, bytes]:
    """Every compared file of a run by relative path."""
    found = {}
    for name in COMPARED:
        path = run_dir / name
        paths = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in paths:
            if file.is_file():
                found[file.relative_to(run_dir).as_posix()] = file.read_bytes()
    return found


def losses(run_dir: Path) -> list[dict[str, Any]]:
    """The log's train and validation events without wall-clock fields."""
    events = [json.loads(line) for line in (run_dir / LOG_NAME).read_text().splitlines()]
    return [
        {k: v for k, v in e.items() if k in LOSSES}
        for e in events
        if e["event"] in ("train", "val")
    ]


def assert_nothing_half_written(run_dir: Path) -> None:
    """Every name a reader uses is whole: adapters, checkpoints, config, all but a torn tail."""
    for adapter in (run_dir / "adapters", run_dir / "adapters-best"):
        if adapter.exists():
            assert sorted(p.name for p in adapter.iterdir()) == [ADAPTER_CONFIG, ADAPTER_WEIGHTS]
            json.loads((adapter / ADAPTER_CONFIG).read_text())
            assert mx.load(str(adapter / ADAPTER_WEIGHTS))
    for checkpoint in (run_dir / "checkpoints").glob("iter-*"):
        names = sorted(p.name for p in checkpoint.iterdir())
        assert names == sorted([ADAPTER_CONFIG, ADAPTER_WEIGHTS, OPTIMIZER_STATE, STATE])
        json.loads((checkpoint / STATE).read_text())
        assert mx.load(str(checkpoint / ADAPTER_WEIGHTS))
        assert mx.load(str(checkpoint / OPTIMIZER_STATE))
    if (run_dir / "train_config.yaml").exists():
        assert yaml.safe_load((run_dir / "train_config.yaml").read_text())["iters"] == 8
    if (run_dir / LOG_NAME).exists():
        text = (run_dir / LOG_NAME).read_text()
        whole = text if text.endswith("\n") else text[: text.rfind("\n") + 1]
        for line in whole.splitlines():  # a torn last line (no newline) is skipped on reading
            json.loads(line)


@pytest.fixture(name="reference", scope="module")
def fixture_reference(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """One uninterrupted run with its trace of file-system steps."""
    root = tmp_path_factory.mktemp("reference")
    trace = root / "trace.jsonl"
    done, seconds = run(driver(tiny_model_dir, root / "run", "--trace", str(trace)), trace=trace)
    assert done.returncode == 0, done.stderr
    steps = [json.loads(line) for line in trace.read_text().splitlines()]
    return Reference(root / "run", steps, seconds)


def schedule(reference: Reference) -> list[tuple[str, int | None, float | None]]:
    """The seeded trials: (what, step to die at, or seconds after the first step)."""
    rng = random.Random(SEED)
    steps = reference.steps
    checkpoint = [s["step"] for s in steps if s["path"].startswith("/checkpoints/")]
    best = [s["step"] for s in steps if "adapters-best" in s["path"]]
    final = [s["step"] for s in steps if s["path"].startswith(("/adapters/", "/.adapters."))]
    assert checkpoint and best and final
    return [
        *(("checkpoint", n, None) for n in sorted(rng.sample(checkpoint, 2))),
        *(("best adapter", n, None) for n in sorted(rng.sample(best, 2))),
        ("final adapter", rng.choice(final), None),
        ("any step", rng.randint(1, len(steps)), None),
        ("timer", None, rng.uniform(0.0, reference.write_seconds * 0.8)),
    ]


def test_reference_run_writes_checkpoints_and_adapters(reference: Reference) -> None:
    """The uninterrupted run's steps include checkpoint and best-adapter writes to kill in."""
    kinds = {s["kind"] for s in reference.steps}
    assert {"save_safetensors", "fsync", "write"} <= kinds
    assert (reference.run_dir / "adapters-best" / ADAPTER_WEIGHTS).is_file()
    assert (reference.run_dir / LOCK_NAME).read_text() == ""  # released on exit


def test_sigkill_then_resume_gives_the_same_bytes(
    reference: Reference, tiny_model_dir: Path, tmp_path: Path
) -> None:
    """Seven seeded SIGKILLs (checkpoint, best adapter, final adapter, any step, a timer)."""
    expected, expected_losses = files(reference.run_dir), losses(reference.run_dir)
    for n, (what, step, delay) in enumerate(schedule(reference)):
        run_dir, trace = tmp_path / f"trial{n}", tmp_path / f"trace{n}.jsonl"
        args = ["--trace", str(trace)] + (["--kill-at", str(step)] if step else [])
        killed, _ = run(driver(tiny_model_dir, run_dir, *args), kill_after=delay, trace=trace)
        label = f"trial {n} ({what}, step {step}, delay {delay})"
        assert killed.returncode == -signal.SIGKILL or delay is not None, (label, killed.stderr)
        assert_nothing_half_written(run_dir)
        held = (run_dir / LOCK_NAME).read_text() != ""  # killed before it released the lock
        resumed, _ = run(driver(tiny_model_dir, run_dir, "--resume"))
        assert resumed.returncode == 0, (label, resumed.stderr)
        assert ("no longer running: taking it over" in resumed.stderr) == held, label
        assert files(run_dir) == expected, label
        assert losses(run_dir) == expected_losses, label
        assert [p.name for p in run_dir.iterdir() if p.name.startswith(".")] == [], label
