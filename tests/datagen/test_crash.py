"""SIGKILL ``python -m punie_datagen`` while it writes: nothing half written is ever read.

A killed build leaves either the previous complete dataset or a folder that
`punie_datagen.output.dataset_problem` (and so ``python -m punie_train``) refuses; the next
build writes the same bytes as one never interrupted.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import cast

import pytest
from rich.console import Console

from punie_datagen.output import dataset_problem
from punie_tools import Registry
from punie_train.config import TrainConfig
from punie_train.run_data import ensure_data
from punie_train.run_options import UserError

SEED = 17
REPO = Path(__file__).parents[2]
FILES = ("train.jsonl", "valid.jsonl", "manifest.json")
NO_REGISTRY = cast(Registry, None)  # these calls never build, so never use it


def build(out: Path, foundation: Path, *extra: str, seed: int = 33) -> subprocess.CompletedProcess:
    """Run the datagen driver (one worker, four examples per tool) into ``out``."""
    cli = ["--out", str(out), "--foundation", str(foundation), "--per-tool", "4"]
    command = [sys.executable, "-m", "tests.datagen.driver", *extra, "--", *cli]
    command += ["--workers", "1", "--seed", str(seed)]
    return subprocess.run(
        command, cwd=REPO, env=os.environ.copy(), capture_output=True, text=True, check=False
    )


def contents(out: Path) -> dict[str, bytes]:
    """The dataset's files by name."""
    return {name: (out / name).read_bytes() for name in FILES if (out / name).exists()}


def test_killed_builds_are_never_read_and_rebuild_the_same_bytes(
    words_env: Path, foundation_file: Path, tmp_path: Path
) -> None:
    """Seeded kills at file-system steps of the write, into an empty and a full folder."""
    reference = tmp_path / "ref" / "demo"
    trace = tmp_path / "trace.jsonl"
    done = build(reference, foundation_file, "--trace", str(trace))
    assert done.returncode == 0, done.stderr
    expected = contents(reference)
    steps = [json.loads(line) for line in trace.read_text().splitlines()]
    assert len(steps) >= 10 and dataset_problem(reference) is None
    older = tmp_path / "older" / "demo"  # the same folder built with another seed
    assert build(older, foundation_file, seed=5).returncode == 0
    previous = contents(older)
    rng = random.Random(SEED)
    for n, step in enumerate(sorted(rng.sample(range(1, len(steps) + 1), 6))):
        out = tmp_path / f"trial{n}" / "demo"
        if n % 2:  # every other trial overwrites a complete older dataset
            out.parent.mkdir()
            subprocess.run(["cp", "-a", str(older), str(out)], check=True)
        killed = build(out, foundation_file, "--kill-at", str(step))
        label = f"trial {n}: killed at step {step} ({steps[step - 1]})"
        assert killed.returncode == -signal.SIGKILL, (label, killed.stderr)
        problem = dataset_problem(out)
        if problem is None:  # readable: then whole, and all old or all new
            assert contents(out) in (previous, expected, {}), label
        else:
            with pytest.raises(UserError, match="python -m punie_datagen --out"):
                ensure_data(out, TrainConfig(), NO_REGISTRY, Console(file=io.StringIO()))
        again = build(out, foundation_file)
        assert again.returncode == 0, (label, again.stderr)
        assert contents(out) == expected, label
        assert dataset_problem(out) is None, label
        assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [], label
