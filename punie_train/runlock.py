"""One run per run directory: ``<run>/run.lock``, held with ``flock`` while a run uses it.

The kernel drops an ``flock`` when its process ends in any way (SIGKILL included), so a lock
can never outlive its run. The file also says who holds it (pid, start time, command line)
for the message a second run prints; it is emptied on a clean exit. A file that still names
an owner while nobody holds the lock was left by a run that died: the next run takes it
over and says so.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import socket
import sys
from pathlib import Path
from types import TracebackType

import attrs

LOCK_NAME = "run.lock"


class RunDirBusy(Exception):
    """Another live process holds the run directory; the message is one line to show."""


@attrs.frozen
class Owner:
    """Who holds (or held) a run directory's lock."""

    pid: int
    started: str
    command: str
    host: str = ""

    @classmethod
    def current(cls) -> Owner:
        """This process."""
        return cls(
            pid=os.getpid(),
            started=datetime.datetime.now().isoformat(timespec="seconds"),
            command=_command_line(),
            host=socket.gethostname(),
        )

    @classmethod
    def parse(cls, text: str) -> Owner | None:
        """The owner a lock file names; None if it is empty or unreadable (a free lock)."""
        try:
            data = json.loads(text)
            return cls(
                int(data["pid"]),
                str(data["started"]),
                str(data["command"]),
                str(data.get("host", "")),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def to_json(self) -> str:
        """The lock file's content."""
        return json.dumps(attrs.asdict(self)) + "\n"

    def describe(self) -> str:
        """``pid 123 (python -m punie_train ..., started 2026-01-01T10:00:00)``."""
        return f"pid {self.pid} ({self.command}, started {self.started})"


class RunLock:
    """Exclusive use of a run directory by this process, as a context manager.

    ``taken_over`` names the dead run whose lock this one took, if any.
    """

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_NAME
        self.taken_over: Owner | None = None
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        """Take the lock at once or raise RunDirBusy naming the holder; never waits."""
        if self._fd is not None:
            return self
        self.run_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = Owner.parse(_read(fd))
            os.close(fd)
            who = holder.describe() if holder else "another process"
            raise RunDirBusy(
                f"{self.run_dir} is in use by {who}: wait for it to finish, or give this "
                "run another directory with --run-dir DIR"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        self.taken_over = Owner.parse(_read(fd))
        os.ftruncate(fd, 0)
        os.pwrite(fd, Owner.current().to_json().encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        """Empty the lock file (nobody owns the directory) and drop the lock."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
            os.fsync(fd)
        finally:
            os.close(fd)  # closing drops the flock

    def stale_message(self) -> str | None:
        """The line to print when this run took over the lock of a run that died."""
        if self.taken_over is None:
            return None
        return (
            f"{self.run_dir} was left locked by {self.taken_over.describe()}, which is no "
            "longer running: taking it over"
        )

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _command_line() -> str:
    """``python -m punie_train --resume`` rather than the path of ``__main__.py``."""
    argv = list(sys.argv) or [""]
    program = Path(argv[0])
    if program.name == "__main__.py":
        argv[0:1] = ["-m", program.parent.name]
    return " ".join(["python", *(a for a in argv if a)])


def _read(fd: int) -> str:
    try:
        return os.pread(fd, 65536, 0).decode("utf-8", "replace")
    except OSError:
        return ""
