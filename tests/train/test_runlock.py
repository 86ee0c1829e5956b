"""One run per run directory: the lock, its message, stale locks, and the CLI's use of it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from punie_train.cli import main
from punie_train.runlock import LOCK_NAME, Owner, RunDirBusy, RunLock

HOLD = """
import sys, time
from pathlib import Path
from punie_train.runlock import RunLock
lock = RunLock(Path(sys.argv[1])).acquire()
print("locked", flush=True)
if sys.argv[2] == "die":
    import os, signal
    os.kill(os.getpid(), signal.SIGKILL)
time.sleep(120)
"""


def hold(run_dir: Path, then: str = "sleep") -> subprocess.Popen[str]:
    """A separate process that takes the lock, then sleeps (or SIGKILLs itself)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(run_dir), then], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_second_run_in_a_locked_dir_is_refused_naming_the_holder(tmp_path: Path) -> None:
    """While another process holds the dir, taking it fails at once with one line."""
    holder = hold(tmp_path)
    try:
        started = time.perf_counter()
        with pytest.raises(RunDirBusy) as busy:
            RunLock(tmp_path).acquire()
        assert time.perf_counter() - started < 1.0
        message = str(busy.value)
        assert "\n" not in message
        assert f"pid {holder.pid}" in message and "--run-dir" in message
        assert "started 20" in message  # the holder's start time
    finally:
        holder.kill()
        holder.wait()
    with RunLock(tmp_path) as lock:  # free again once the holder is gone
        assert lock.stale_message() is not None  # it was killed, not released


def test_released_lock_is_free_and_names_nobody(tmp_path: Path) -> None:
    """A clean exit empties the lock file; the next run takes it without a warning."""
    with RunLock(tmp_path) as lock:
        owner = Owner.parse((tmp_path / LOCK_NAME).read_text())
        assert owner is not None and owner.pid == os.getpid()
        assert lock.stale_message() is None
    assert (tmp_path / LOCK_NAME).read_text() == ""
    with RunLock(tmp_path) as again:
        assert again.stale_message() is None


def test_lock_of_a_killed_run_is_taken_over_with_a_message(tmp_path: Path) -> None:
    """SIGKILL leaves the file naming the dead run; the next run takes over and says so."""
    dead = hold(tmp_path, then="die")
    assert dead.wait() == -signal.SIGKILL
    with RunLock(tmp_path) as lock:
        message = lock.stale_message()
        assert message is not None
        assert f"pid {dead.pid}" in message and "no longer running" in message


def test_the_same_process_cannot_take_a_dir_twice(tmp_path: Path) -> None:
    """Two locks on one dir exclude each other even inside one process."""
    with RunLock(tmp_path), pytest.raises(RunDirBusy):
        RunLock(tmp_path).acquire()


@pytest.mark.parametrize(
    "args",
    [
        ["--skip-eval", "--iters", "1"],
        ["--skip-train", "--adapter", "some/adapter", "--eval-limit", "1"],
    ],
    ids=["training", "evaluation-only"],
)
def test_cli_refuses_a_locked_run_dir(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Training and evaluation-only runs both stop with status 2 and one line, writing nothing."""
    run_dir = tmp_path / "run"
    with RunLock(run_dir):
        assert main([*args, "--run-dir", str(run_dir), "--data", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert f"{run_dir} is in use by pid {os.getpid()}" in err
    assert "another directory with --run-dir DIR" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in run_dir.iterdir()) == [LOCK_NAME]


def test_cli_with_an_unusable_run_dir_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A --run-dir that cannot be created (a file is in the way) is status 2, no traceback."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder\n")
    assert main(["--skip-eval", "--run-dir", str(blocker / "run")]) == 2
    err = capsys.readouterr().err
    assert f"cannot use --run-dir {blocker / 'run'}" in err and "Traceback" not in err
