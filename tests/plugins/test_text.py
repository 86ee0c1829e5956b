"""The text tools on real files and real programs, directly and through Code Mode."""

from __future__ import annotations

import os
import re
import shlex
import stat
import time
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from punie_text import punie_tools as text_specs
from punie_text.command import CommandLimits, _argv, set_command_limits, shell_operator
from punie_text.files import read_file, write_file
from punie_text.tools import run_command

from punie_tools import Sandbox, Workspace


@pytest.fixture(name="root")
def fixture_root(tmp_path: Path) -> Path:
    """A small project: two Python files and a README, with an outside folder beside it."""
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "foo.py").write_text("class Foo:\n    pass\n", encoding="utf-8")
    (root / "pkg" / "bar.py").write_text("from pkg.foo import Foo\n\nx = Foo()\n")
    (root / "README.md").write_text("# Demo\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("top secret\n")
    return root


@pytest.fixture(name="ws")
def fixture_ws(root: Path) -> Workspace:
    """The project as the workspace."""
    return Workspace(root)


@pytest.fixture(name="sandbox")
def fixture_sandbox(ws: Workspace) -> Sandbox:
    """A Code Mode sandbox with the text tools bound to the workspace."""
    return Sandbox(text_specs(), ws)


def test_read_file_returns_the_text(ws: Workspace) -> None:
    """read_file returns the file's text exactly."""
    assert read_file("pkg/foo.py", workspace=ws) == "class Foo:\n    pass\n"


def test_read_file_in_code_mode(sandbox: Sandbox) -> None:
    """In Code Mode the text is a plain string the code can work with."""
    run = sandbox.run('text = read_file("pkg/foo.py")\nprint(len(text.splitlines()), text)')
    assert run.ok and run.output == "2 class Foo:\n    pass\n\n"


def test_read_file_of_a_missing_file_is_a_clear_error(sandbox: Sandbox) -> None:
    """A missing file is reported by name, not with a traceback."""
    run = sandbox.run('print(read_file("nope.txt"))')
    assert run.error == "FileNotFoundError: cannot read 'nope.txt': no such file in the workspace"


def test_read_file_of_a_folder_is_a_clear_error(ws: Workspace) -> None:
    """Reading a folder says it is a folder."""
    with pytest.raises(IsADirectoryError, match="it is a directory"):
        read_file("pkg", workspace=ws)


def test_read_file_of_binary_data_is_a_clear_error(root: Path, ws: Workspace) -> None:
    """Bytes that are not UTF-8 are refused with the reason."""
    (root / "blob.bin").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ValueError, match="not a UTF-8 text file"):
        read_file("blob.bin", workspace=ws)


def test_read_file_refuses_a_fifo(root: Path, ws: Workspace) -> None:
    """A named pipe would block forever, so it is refused."""
    os.mkfifo(root / "pipe")
    with pytest.raises(ValueError, match="not a regular file"):
        read_file("pipe", workspace=ws)


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "../outside/secret.txt"])
def test_read_file_refuses_paths_outside_the_workspace(sandbox: Sandbox, path: str) -> None:
    """Climbing out or naming an absolute path is refused with a clear message."""
    run = sandbox.run(f"print(read_file({path!r}))")
    assert run.output == ""
    assert run.error is not None and run.error.startswith(f"PermissionError: cannot read {path!r}")
    assert "workspace" in run.error


def test_read_file_refuses_a_symlink_that_leaves(root: Path, ws: Workspace) -> None:
    """A link inside the workspace to a file outside it is not followed."""
    (root / "link.txt").symlink_to(root.parent / "outside" / "secret.txt")
    with pytest.raises(PermissionError, match="leaves the workspace"):
        read_file("link.txt", workspace=ws)


def test_write_file_creates_the_file_and_its_folders(root: Path, ws: Workspace) -> None:
    """A new file is written with its parent folders; the reply confirms it."""
    reply = write_file("docs/notes/a.md", "one\ntwo\n", workspace=ws)
    assert (root / "docs/notes/a.md").read_text() == "one\ntwo\n"
    assert reply == "Wrote 8 characters (2 lines) to docs/notes/a.md"


def test_write_file_replaces_atomically_and_keeps_the_mode(root: Path, ws: Workspace) -> None:
    """Overwriting keeps the file's permissions and leaves no temporary file behind."""
    script = root / "run.sh"
    script.write_text("old\n")
    script.chmod(0o755)
    write_file("run.sh", "new\n", workspace=ws)
    assert script.read_text() == "new\n"
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert sorted(p.name for p in root.iterdir()) == ["README.md", "pkg", "run.sh"]


def test_write_file_in_code_mode_then_read_back(root: Path, sandbox: Sandbox) -> None:
    """A write in Code Mode lands on disk and a later read sees it."""
    run = sandbox.run(
        'print(write_file("pkg/baz.py", "Y = 2\\n"))\nprint(read_file("pkg/baz.py"), end="")'
    )
    assert run.ok, run.error
    assert run.output == "Wrote 6 characters (1 lines) to pkg/baz.py\nY = 2\n"
    assert (root / "pkg/baz.py").read_text() == "Y = 2\n"


def test_write_file_refuses_an_absolute_path_outside(sandbox: Sandbox) -> None:
    """write_file('/tmp/...') is refused and nothing is written there."""
    target = Path(f"/tmp/punie-test-{uuid.uuid4().hex}")
    run = sandbox.run(f'print(write_file("{target}", "x"))')
    assert run.error is not None and "outside the workspace" in run.error
    assert not target.exists()


def test_write_file_refuses_climbing_out(root: Path, ws: Workspace) -> None:
    """A relative path that leaves the workspace is refused and nothing is written."""
    with pytest.raises(PermissionError, match=re.escape("cannot write '../outside/new.txt'")):
        write_file("../outside/new.txt", "x", workspace=ws)
    assert not (root.parent / "outside" / "new.txt").exists()


def test_write_file_refuses_a_symlink_that_leaves(root: Path, sandbox: Sandbox) -> None:
    """Writing through a link to a file outside is refused and the target is untouched."""
    secret = root.parent / "outside" / "secret.txt"
    (root / "link.txt").symlink_to(secret)
    (root / "linkdir").symlink_to(secret.parent, target_is_directory=True)
    for path in ("link.txt", "linkdir/new.txt"):
        run = sandbox.run(f'write_file("{path}", "owned")')
        assert run.error is not None and "leaves the workspace" in run.error
    assert secret.read_text() == "top secret\n"
    assert sorted(p.name for p in secret.parent.iterdir()) == ["secret.txt"]


def test_write_file_refuses_a_folder(ws: Workspace) -> None:
    """A folder cannot be overwritten with text."""
    with pytest.raises(IsADirectoryError):
        write_file("pkg", "x", workspace=ws)


def test_write_and_run_are_marked_as_writing() -> None:
    """write_file and run_command ask for confirmation; read_file does not."""
    assert {s.name: s.writes for s in text_specs()} == {
        "read_file": False,
        "write_file": True,
        "run_command": True,
    }


def test_run_command_accepts_one_shell_like_string(ws: Workspace) -> None:
    """The foundation data's one-string grep runs in the workspace root."""
    out = run_command("grep -rn 'class Foo' --include='*.py'", workspace=ws)
    assert out == "pkg/foo.py:1:class Foo:\n"


def test_run_command_in_code_mode(sandbox: Sandbox) -> None:
    """In Code Mode the output is a string the code can split."""
    run = sandbox.run(
        "out = run_command(\"grep -rln 'Foo' --include='*.py'\")\nprint(sorted(out.splitlines()))"
    )
    assert run.ok and run.output == "['pkg/bar.py', 'pkg/foo.py']\n"


def test_run_command_with_args_and_cwd(ws: Workspace) -> None:
    """args are passed as they are and cwd is a folder inside the workspace."""
    assert run_command("ls", args=["-1"], cwd="pkg", workspace=ws) == "bar.py\nfoo.py\n"


def test_run_command_reports_a_failing_exit_status(ws: Workspace) -> None:
    """A non-zero exit status ends the output, after the program's own stderr."""
    out = run_command("ls no-such-file", workspace=ws)
    assert "no-such-file" in out
    assert out.endswith("\n[exit status 2]")


def test_run_command_says_when_there_is_no_output(ws: Workspace) -> None:
    """A silent program answers '(no output)' so the model is not left guessing."""
    assert run_command("grep -r zzz-not-there .", workspace=ws) == "(no output)\n[exit status 1]"


@pytest.mark.parametrize(
    "command", ["ls | head", "ls > out.txt", "ls && ls", "echo $(id)", "cd pkg"]
)
def test_run_command_refuses_shell_syntax_clearly(ws: Workspace, command: str) -> None:
    """Without a shell, pipes, redirection, chaining, substitution and cd are explained."""
    with pytest.raises(ValueError, match="shell"):
        run_command(command, workspace=ws)
    assert not (ws.root / "out.txt").exists()


def test_run_command_allows_quoted_operators(ws: Workspace) -> None:
    """A quoted | is an argument, not a pipe."""
    out = run_command("grep -rEn 'class Foo|x = ' --include='*.py' .", workspace=ws)
    assert sorted(out.splitlines()) == ["./pkg/bar.py:3:x = Foo()", "./pkg/foo.py:1:class Foo:"]


def test_run_command_refuses_a_cwd_outside(ws: Workspace) -> None:
    """cwd must stay in the workspace."""
    with pytest.raises(PermissionError, match="leaves the workspace"):
        run_command("ls", cwd="..", workspace=ws)


def test_run_command_names_a_missing_program(sandbox: Sandbox) -> None:
    """An unknown program is named in the error."""
    run = sandbox.run('run_command("no-such-program-xyz --help")')
    assert run.error == "FileNotFoundError: run_command: no program named 'no-such-program-xyz'"


def test_run_command_timeout_kills_the_process_group(tmp_path: Path, ws: Workspace) -> None:
    """At the time limit the command and its children are stopped and the reply says so."""
    set_command_limits(ws, CommandLimits(seconds=1.0))
    pid_file = tmp_path / "child.pid"
    script = f"sleep 30 & echo $! > {pid_file}; wait"
    out = run_command("sh", args=["-c", script], workspace=ws)
    assert out.endswith("[timed out after 1 s; the command was stopped]")
    assert _ends(int(pid_file.read_text()))


def _ends(pid: int) -> bool:
    """Whether the process is gone (or a zombie) within a few seconds; SIGKILL lands async."""
    status = Path(f"/proc/{pid}/status")
    for _ in range(100):
        if not status.exists() or "State:\tZ" in status.read_text():
            return True
        time.sleep(0.05)
    return False


def test_run_command_caps_the_output(ws: Workspace) -> None:
    """Long output keeps its head and tail and says how much was cut."""
    set_command_limits(ws, CommandLimits(output_bytes=600))
    out = run_command("seq 1 100000", workspace=ws)
    assert out.startswith("1\n2\n3\n")
    assert out.endswith("99999\n100000\n")
    assert "bytes of output cut" in out
    assert len(out) < 700


_ARG = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)))


@given(st.lists(_ARG, min_size=1, max_size=6).filter(lambda a: a[0].strip() and a[0] != "cd"))
def test_any_quoted_command_line_splits_back_to_its_arguments(argv: list[str]) -> None:
    """A command line quoted like a shell would has no operator and splits to the same argv."""
    line = shlex.join(argv)
    assert shell_operator(line) is None
    assert _argv(line, None) == argv


@given(_ARG, st.sampled_from(["|", ";", "&&", ">", "<", "`", "$("]))
def test_an_unquoted_operator_is_always_found(word: str, operator: str) -> None:
    """An operator between two quoted words is found."""
    line = f"{shlex.quote(word)} {operator} {shlex.quote(word)}"
    assert shell_operator(line) is not None


def test_limits_default_when_the_host_sets_none(ws: Workspace) -> None:
    """A workspace without limits set gets the defaults (30 s, 20 000 bytes)."""
    assert run_command("echo hi", workspace=ws) == "hi\n"
    assert ws.resource("punie_text.command_limits", CommandLimits) == CommandLimits()
