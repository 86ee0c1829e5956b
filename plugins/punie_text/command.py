"""run_command: one program in the workspace, no shell, with a timeout and an output cap."""

from __future__ import annotations

import contextlib
import os
import selectors
import shlex
import signal
import subprocess
import time

import attrs

from punie_tools import Workspace, WorkspaceError, timelimits

LIMITS_KEY = "punie_text.command_limits"
_OPERATOR_CHARS = "|&;<>`"


@attrs.frozen
class CommandLimits:
    """Limits on one run_command call; a host sets them per session with ``set_command_limits``."""

    seconds: float = 30.0
    output_bytes: int = 20_000


def set_command_limits(workspace: Workspace, limits: CommandLimits) -> CommandLimits:
    """Use ``limits`` for run_command in this workspace (before its first run_command call)."""
    return workspace.resource(LIMITS_KEY, lambda: limits)


def run_command(
    command: str,
    args: list[str] | None = None,
    cwd: str | None = None,
    *,
    workspace: Workspace,
) -> str:
    """Run a program in the workspace and return its output (stderr included).

    Without ``args`` the command string is split like a POSIX shell line, e.g.
    ``run_command("grep -rn 'class Foo' --include='*.py'")``, but no shell runs it:
    pipes, redirection, ``&&``/``;``, ``$VAR``, ``~`` and globs are not available.
    A non-zero exit status is reported on the last line.

    Args:
        command: The program, or the whole command line when args is None.
        args: The program's arguments, passed as they are.
        cwd: Folder to run in, relative to the workspace root (default: the root).
    """
    argv = _argv(command, args)
    try:
        directory = workspace.resolve(cwd or ".")
    except WorkspaceError as exc:
        raise PermissionError(f"cannot run in {cwd!r}: {exc}") from None
    if not directory.is_dir():
        raise NotADirectoryError(f"cannot run in {cwd!r}: no such folder in the workspace")
    limits = workspace.resource(LIMITS_KEY, CommandLimits)
    return _run(argv, str(directory), limits)


def _argv(command: str, args: list[str] | None) -> list[str]:
    """The program and its arguments, or a ValueError saying what cannot run without a shell."""
    if args is not None:
        if not command.strip():
            raise ValueError("run_command needs a program name")
        return [command, *args]
    operator = shell_operator(command)
    if operator is not None:
        hint = " (stderr is already part of the output)" if operator in {">", ">&"} else ""
        raise ValueError(
            f"run_command runs one program without a shell, so {operator!r} is not "
            f"available{hint}; run each program in its own call and combine the outputs "
            "in Python"
        )
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ValueError(f"cannot split the command {command!r}: {exc}") from None
    if not argv:
        raise ValueError("run_command needs a command to run")
    if argv[0] == "cd":
        raise ValueError("run_command has no shell, so 'cd' is not available; pass cwd= instead")
    return argv


def shell_operator(command: str) -> str | None:
    """The first unquoted shell operator (pipe, redirection, chaining, substitution), if any."""
    quote = ""
    i = 0
    while i < len(command):
        ch = command[i]
        if quote == "'":
            quote = "" if ch == "'" else quote
        elif ch == "\\":
            i += 1  # the next character is escaped
        elif command.startswith("$(", i) or ch == "`":
            return command[i : i + 2] if ch == "$" else ch
        elif quote == '"':
            quote = "" if ch == '"' else quote
        elif ch in "'\"":
            quote = ch
        elif ch in _OPERATOR_CHARS:
            end = i
            while end < len(command) and command[end] in _OPERATOR_CHARS:
                end += 1
            return command[i:end]
        i += 1
    return None


class _Output:
    """Keeps the head and the tail of a stream, counting what falls in between."""

    def __init__(self, limit: int) -> None:
        self.head_limit = max(limit * 2 // 3, 0)
        self.tail_limit = max(limit - self.head_limit, 0)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk and self.tail_limit:
            self.tail += chunk
            if len(self.tail) > 2 * self.tail_limit:
                del self.tail[: -self.tail_limit]

    def text(self) -> str:
        tail = bytes(self.tail[-self.tail_limit :]) if self.tail_limit else b""
        cut = self.total - len(self.head) - len(tail)
        head_text = self.head.decode("utf-8", errors="replace")
        tail_text = tail.decode("utf-8", errors="replace")
        if cut <= 0:
            return head_text + tail_text
        return f"{head_text}\n[... {cut} bytes of output cut ...]\n{tail_text}"


def _run(argv: list[str], cwd: str, limits: CommandLimits) -> str:
    env = {**os.environ, "PAGER": "cat", "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0"}
    env["TERM"] = "dumb"
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise FileNotFoundError(f"run_command: no program named {argv[0]!r}") from None
    except PermissionError:
        raise PermissionError(f"run_command: {argv[0]!r} is not executable") from None
    output = _Output(limits.output_bytes)
    seconds = timelimits.seconds(limits.seconds)
    timed_out = _collect(proc, output, time.monotonic() + seconds)
    # The whole process group goes, so no child the command started outlives the call.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    returncode = proc.wait()
    text = output.text()
    notes = []
    if timed_out:
        timelimits.hit(f"run_command {argv[0]} took longer than {seconds:g} s")
        notes.append(f"[timed out after {seconds:g} s; the command was stopped]")
    elif returncode < 0:
        notes.append(f"[killed by signal {signal.Signals(-returncode).name}]")
    elif returncode:
        notes.append(f"[exit status {returncode}]")
    if not text.strip():
        text = "(no output)"
    if notes and text and not text.endswith("\n"):
        text += "\n"
    return text + "\n".join(notes)


def _collect(proc: subprocess.Popen[bytes], output: _Output, deadline: float) -> bool:
    """Read the process's output until it ends; True if the deadline passed first."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    with selectors.DefaultSelector() as selector, proc.stdout:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            if selector.select(min(remaining, 0.2)):
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                output.add(chunk)
            elif proc.poll() is not None:
                # The program exited but a child it left behind still holds the pipe.
                break
    remaining = deadline - time.monotonic()
    try:
        proc.wait(timeout=max(remaining, 0))
    except subprocess.TimeoutExpired:
        return True
    return False
