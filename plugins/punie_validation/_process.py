"""Run the validation programs: find them, time them out, never leave a process behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from punie_tools import timelimits
from punie_tools.child_env import child_env


class ProgramError(Exception):
    """A program could not run to completion (missing, failed to start, or timed out)."""


@attrs.frozen
class ProcessOutput:
    """What a finished program printed and its exit status."""

    returncode: int
    stdout: str
    stderr: str


def find_program(name: str) -> str | None:
    """The program installed next to the running Python, else the one on PATH, else None."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def require_program(name: str) -> str:
    """Like find_program, but raise ProgramError naming where it looked."""
    found = find_program(name)
    if found is None:
        raise ProgramError(
            f"{name} is not installed: not found next to {sys.executable} nor on PATH"
        )
    return found


def workspace_python(root: Path) -> str:
    """The workspace's own virtualenv interpreter if it has one, else the running Python."""
    for candidate in (root / ".venv" / "bin" / "python", root / "venv" / "bin" / "python"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return sys.executable


def run_program(
    args: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> ProcessOutput:
    """Run a program in its own process group; kill the whole group on timeout or error.

    The group is also killed after a normal exit, so helpers the program spawned (a test's
    server, say) cannot outlive it.
    """
    name = Path(args[0]).name
    timeout = timelimits.seconds(timeout)
    try:
        proc = subprocess.Popen(
            list(args),
            cwd=cwd,
            env=dict(env) if env is not None else child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )
    except OSError as exc:
        raise ProgramError(f"cannot start {name}: {exc}") from exc
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate()
        timelimits.hit(f"{name} took longer than {timeout:g} s")
        raise ProgramError(f"{name} timed out after {timeout:g} s and was stopped") from None
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    _kill_group(proc)
    return ProcessOutput(proc.returncode, stdout, stderr)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    # start_new_session made the child the leader of a group whose id is its pid.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
