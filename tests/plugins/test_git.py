"""The git tools against a real repository made in a temporary directory, checked against git."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from punie_git import punie_tools as git_specs
from punie_git.parse import FIELD_SEP, parse_log, parse_numstat, parse_status, patch_sections
from punie_git.results import GitCommit, GitFileStatus
from punie_git.tools import git_diff, git_log, git_status

from punie_tools import Sandbox, Workspace

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

ADA = ("Ada Lovelace", "ada@example.com")
GRACE = ("Grace Hopper", "grace@example.com")
NAMES = {"M": "modified", "A": "added", "D": "deleted", "R": "renamed", "C": "copied"}


def git(repo: Path, *args: str, author: tuple[str, str] = ADA, date: str = "") -> str:
    """Run the real git in ``repo`` with no user or system config; return its stdout."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(repo),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": author[0],
        "GIT_AUTHOR_EMAIL": author[1],
        "GIT_COMMITTER_NAME": author[0],
        "GIT_COMMITTER_EMAIL": author[1],
        "LC_ALL": "C",
    }
    if date:
        env |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def write(repo: Path, name: str, text: str) -> None:
    """Write a file in the repository, creating folders."""
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture(name="repo")
def fixture_repo(tmp_path: Path) -> Path:
    """Three commits, then a modified, a staged, a both-staged-and-modified, a renamed,
    a deleted, a staged-deleted and an untracked file."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "--initial-branch=main")
    write(repo, "app.py", "def main():\n    return 1\n")
    write(repo, "lib/util.py", "".join(f"line {i}\n" for i in range(1, 31)))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "Initial commit", date="2025-01-02T10:00:00+01:00")
    write(repo, "old_name.py", "X = 1\n")
    write(repo, "gone.txt", "bye\n")
    write(repo, "staged_gone.txt", "bye too\n")
    write(repo, "both.py", "a = 1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "Add helpers", author=GRACE, date="2025-01-03T11:30:00+00:00")
    write(repo, "README.md", "# Demo\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "Add a README", date="2025-01-04T09:05:07-05:00")
    # The working tree after the last commit:
    write(repo, "app.py", "def main():\n    return 2\n\n\ndef extra():\n    pass\n")
    util = (repo / "lib/util.py").read_text().replace("line 3\n", "").replace("line 25", "LINE 25")
    write(repo, "lib/util.py", util)
    git(repo, "add", "lib/util.py")
    write(repo, "both.py", "a = 2\n")
    git(repo, "add", "both.py")
    write(repo, "both.py", "a = 3\n")
    git(repo, "mv", "old_name.py", "new_name.py")
    (repo / "gone.txt").unlink()
    git(repo, "rm", "-q", "staged_gone.txt")
    write(repo, "notes/todo.txt", "untracked\n")
    return repo


@pytest.fixture(name="ws")
def fixture_ws(repo: Path) -> Workspace:
    """The repository as the workspace."""
    return Workspace(repo)


def porcelain(repo: Path) -> list[tuple[str, str]]:
    """(XY, path) pairs from plain ``git status --porcelain`` (new names for renames)."""
    pairs = []
    for line in git(repo, "status", "--porcelain").splitlines():
        xy, path = line[:2], line[3:]
        pairs.append((xy, path.split(" -> ")[-1]))
    return pairs


def test_git_status_files_match_git_porcelain(repo: Path, ws: Workspace) -> None:
    """Every XY code git prints becomes one entry per staged or unstaged change."""
    expected = []
    for xy, path in porcelain(repo):
        if xy == "??":
            expected.append(GitFileStatus(path, "untracked", False))
            continue
        if xy[0] != " ":
            expected.append(GitFileStatus(path, NAMES[xy[0]], True))
        if xy[1] != " ":
            expected.append(GitFileStatus(path, NAMES[xy[1]], False))
    result = git_status(".", workspace=ws)
    assert result.success and result.parse_error is None
    assert result.files == expected
    assert result.file_count == len(porcelain(repo))
    assert not result.clean


def test_git_status_reports_each_kind_of_change(ws: Workspace) -> None:
    """Modified, staged, renamed, deleted and untracked files are all reported."""
    got = {(f.file, f.status, f.staged) for f in git_status(".", workspace=ws).files}
    assert ("app.py", "modified", False) in got
    assert ("lib/util.py", "modified", True) in got
    assert ("both.py", "modified", True) in got and ("both.py", "modified", False) in got
    assert ("new_name.py", "renamed", True) in got
    assert ("gone.txt", "deleted", False) in got
    assert ("staged_gone.txt", "deleted", True) in got
    assert ("notes/", "untracked", False) in got


def test_git_status_of_a_clean_repository(repo: Path, ws: Workspace) -> None:
    """After committing everything the tree is clean and no file is listed."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Everything")
    result = git_status(".", workspace=ws)
    assert result.success and result.clean and result.file_count == 0 and result.files == []


def test_git_status_keeps_unusual_file_names(repo: Path, ws: Workspace) -> None:
    """Names with spaces and non-ASCII letters come back as they are on disk."""
    write(repo, "with space.txt", "x\n")
    write(repo, "café.txt", "x\n")
    files = {f.file for f in git_status(".", workspace=ws).files}
    assert {"with space.txt", "café.txt"} <= files


def test_git_diff_counts_match_git_numstat(repo: Path, ws: Workspace) -> None:
    """Per-file additions and deletions and the totals equal ``git diff --numstat``."""
    expected = {}
    for line in git(repo, "diff", "--numstat").splitlines():
        added, deleted, path = line.split("\t")
        expected[path] = (int(added), int(deleted))
    result = git_diff(".", workspace=ws)
    assert result.success and result.parse_error is None
    assert {f.file: (f.additions, f.deletions) for f in result.files} == expected
    assert result.file_count == len(expected)
    assert result.additions == sum(a for a, _ in expected.values())
    assert result.deletions == sum(d for _, d in expected.values())


def test_git_diff_hunks_match_git_patch(repo: Path, ws: Workspace) -> None:
    """The hunk headers are the ``@@`` lines git prints, in order."""
    patch = git(repo, "diff")
    expected = [line for line in patch.splitlines() if line.startswith("@@")]
    result = git_diff(".", workspace=ws)
    assert [h for f in result.files for h in f.hunks] == expected
    app = next(f for f in result.files if f.file == "app.py")
    assert app.hunks == ["@@ -1,2 +1,6 @@"]


def test_git_diff_staged_matches_git_diff_cached(repo: Path, ws: Workspace) -> None:
    """staged=True reports what ``git diff --cached -M`` reports, renames by their new name."""
    expected = {}
    for line in git(repo, "diff", "--cached", "-M", "--numstat").splitlines():
        added, deleted, path = line.split("\t")
        expected[path.split(" => ")[-1]] = (int(added), int(deleted))
    result = git_diff(".", staged=True, workspace=ws)
    assert {f.file: (f.additions, f.deletions) for f in result.files} == expected
    hunks = [line for line in git(repo, "diff", "--cached", "-M").splitlines() if line[:2] == "@@"]
    assert [h for f in result.files for h in f.hunks] == hunks
    assert "new_name.py" in expected and "staged_gone.txt" in expected


def test_git_diff_reports_a_deleted_file_by_its_name(ws: Workspace) -> None:
    """A deleted file keeps its path (not /dev/null) and counts its removed lines."""
    gone = next(f for f in git_diff(".", workspace=ws).files if f.file == "gone.txt")
    assert (gone.additions, gone.deletions) == (0, 1)


def hunks_of(repo: Path, *paths: str, options: tuple[str, ...] = ()) -> list[str]:
    """The ``@@`` lines git prints for one file (both names of a rename) by pathspec."""
    patch = git(repo, "diff", "-M", *options, "--", *paths)
    return [line for line in patch.splitlines() if line.startswith("@@")]


def test_git_diff_pairs_hunks_with_unusual_names(repo: Path, ws: Workspace) -> None:
    """Files with spaces or non-ASCII names, renamed or not, get their own hunks."""
    for name in ("with space.txt", "café.txt", "plain.txt"):
        write(repo, name, "one\ntwo\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "More files")
    write(repo, "with space.txt", "one\nTWO\n")
    write(repo, "café.txt", "zero\none\ntwo\n")
    git(repo, "mv", "plain.txt", "new name.txt")
    write(repo, "new name.txt", "one\ntwo\nthree\n")
    git(repo, "add", "new name.txt")
    files = {f.file: f for f in git_diff(".", workspace=ws).files}
    for name in ("with space.txt", "café.txt"):
        assert files[name].hunks == hunks_of(repo, name)
    staged = {f.file: f for f in git_diff(".", staged=True, workspace=ws).files}
    renamed = staged["new name.txt"]
    assert (renamed.additions, renamed.deletions) == (1, 0)
    assert renamed.hunks == hunks_of(repo, "plain.txt", "new name.txt", options=("--cached",))


def test_git_diff_of_a_binary_file(repo: Path, ws: Workspace) -> None:
    """A binary change is listed with no line counts and no hunks."""
    (repo / "blob.bin").write_bytes(b"\x00\x01")
    git(repo, "add", "blob.bin")
    git(repo, "commit", "-q", "-m", "Binary")
    (repo / "blob.bin").write_bytes(b"\x00\x02")
    blob = next(f for f in git_diff(".", workspace=ws).files if f.file == "blob.bin")
    assert (blob.additions, blob.deletions, blob.hunks) == (0, 0, [])


def test_git_tools_during_a_merge_conflict(tmp_path: Path) -> None:
    """A conflicted file is 'unmerged' once in status and once in the diff, with its hunks."""
    repo = tmp_path
    git(repo, "init", "-q", "--initial-branch=main")
    write(repo, "f.txt", "base\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "other")
    write(repo, "f.txt", "other\n")
    git(repo, "commit", "-q", "-am", "other")
    git(repo, "checkout", "-q", "main")
    write(repo, "f.txt", "mine\n")
    git(repo, "commit", "-q", "-am", "mine")
    merge = subprocess.run(["git", "merge", "other"], cwd=repo, capture_output=True, check=False)
    assert merge.returncode != 0
    ws = Workspace(repo)
    assert git_status(".", workspace=ws).files == [GitFileStatus("f.txt", "unmerged", False)]
    diff = git_diff(".", workspace=ws)
    assert [f.file for f in diff.files] == ["f.txt"]
    assert diff.files[0].hunks == hunks_of(repo, "f.txt")


def test_git_log_matches_git_log(repo: Path, ws: Workspace) -> None:
    """Hashes, subjects, author names and ISO dates equal what ``git log`` prints."""
    text = git(repo, "log", "-n2", "--format=%h%x09%an%x09%ai%x09%s")
    expected = [
        GitCommit(*(line.split("\t")[i] for i in (0, 3, 1, 2))) for line in text.splitlines()
    ]
    result = git_log(".", count=2, workspace=ws)
    assert result.success and result.parse_error is None
    assert result.commits == expected
    assert result.commit_count == 2
    assert result.commits[0].date == "2025-01-04 09:05:07 -0500"
    assert result.commits[1].author == "Grace Hopper"


def test_git_log_returns_at_most_the_history(ws: Workspace) -> None:
    """Asking for more commits than exist returns all of them, newest first."""
    result = git_log(".", count=50, workspace=ws)
    assert [c.message for c in result.commits] == ["Add a README", "Add helpers", "Initial commit"]


def test_git_log_of_a_repository_without_commits(tmp_path: Path) -> None:
    """A new repository has an empty history, which is not an error."""
    git(tmp_path, "init", "-q")
    result = git_log(".", workspace=Workspace(tmp_path))
    assert result.success and result.commit_count == 0 and result.commits == []


@pytest.mark.parametrize("count", [0, -3])
def test_git_log_rejects_a_count_below_one(ws: Workspace, count: int) -> None:
    """A count below one is a clear error, not a git failure."""
    result = git_log(".", count=count, workspace=ws)
    assert not result.success and "count" in (result.parse_error or "")


def test_git_tools_outside_a_repository_fail_clearly(tmp_path: Path) -> None:
    """Every git tool answers success=False naming the folder when there is no repository."""
    ws = Workspace(tmp_path)
    for result in (git_status(workspace=ws), git_diff(workspace=ws), git_log(workspace=ws)):
        assert not result.success
        assert result.parse_error == "'.' is not inside a git repository"


def test_git_never_uses_a_repository_above_the_workspace(repo: Path) -> None:
    """A workspace inside a repository but without its own .git is not a repository."""
    result = git_status(".", workspace=Workspace(repo / "lib"))
    assert not result.success and "not inside a git repository" in (result.parse_error or "")


def test_git_tools_refuse_paths_outside_the_workspace(ws: Workspace) -> None:
    """A path that climbs out of the workspace is refused before git runs."""
    result = git_status("../..", workspace=ws)
    assert not result.success and "leaves the workspace" in (result.parse_error or "")


def test_git_tools_refuse_a_missing_folder(ws: Workspace) -> None:
    """A folder that does not exist is named in the error."""
    result = git_diff("no/such/dir", workspace=ws)
    assert not result.success
    assert result.parse_error == "'no/such/dir' is not a folder in the workspace"


def test_git_tools_report_missing_git(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a git program on PATH the tools say so."""
    monkeypatch.setenv("PATH", str(ws.root / "lib"))
    result = git_log(".", workspace=ws)
    assert not result.success and "git is not installed" in (result.parse_error or "")


def test_git_paths_are_relative_to_the_workspace(tmp_path: Path, repo: Path) -> None:
    """A repository in a sub-folder reports paths that read_file can open from the root."""
    ws = Workspace(tmp_path)
    files = {f.file for f in git_status("repo", workspace=ws).files}
    assert "repo/app.py" in files
    assert {f.file for f in git_diff("repo/lib", workspace=ws).files} >= {"repo/app.py"}


def test_git_status_from_a_sub_folder_covers_the_repository(ws: Workspace) -> None:
    """``path`` is where git runs, not a filter: a sub-folder still sees the whole tree."""
    assert git_status("lib", workspace=ws).files == git_status(".", workspace=ws).files


def test_git_tools_in_code_mode_match_direct_calls(ws: Workspace) -> None:
    """The sandbox prints the same fields as calling the tools directly."""
    code = (
        'status = git_status(".")\n'
        'diff = git_diff(".", staged=True)\n'
        'log = git_log(".", 2)\n'
        "print(status.file_count, status.clean, status.files[0].file, status.files[0].status)\n"
        "print(diff.file_count, diff.additions, diff.deletions, diff.files[0].hunks)\n"
        "print([c.hash for c in log.commits], log.commits[0].author, log.commits[0].date)\n"
    )
    run = Sandbox(git_specs(), ws).run(code)
    assert run.ok, run.error
    status = git_status(".", workspace=ws)
    diff = git_diff(".", staged=True, workspace=ws)
    log = git_log(".", 2, workspace=ws)
    assert run.output.splitlines() == [
        f"{status.file_count} {status.clean} {status.files[0].file} {status.files[0].status}",
        f"{diff.file_count} {diff.additions} {diff.deletions} {diff.files[0].hunks}",
        f"{[c.hash for c in log.commits]} {log.commits[0].author} {log.commits[0].date}",
    ]


def test_git_result_repr_is_what_the_model_sees(ws: Workspace) -> None:
    """Printing a result in Code Mode shows its repr with the reference's field names."""
    run = Sandbox(git_specs(), ws).run('print(git_log(".", 1))')
    assert run.output.startswith("GitLogResult(success=True, commits=[GitCommit(hash='")
    assert "commit_count=1, parse_error=None)" in run.output


_PATHS = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), min_size=1)
_XY = st.sampled_from(
    ["M ", " M", "MM", "A ", "AM", " D", "D ", "R ", "RM", "C ", "??", "UU", "T "]
)


@given(st.lists(st.tuples(_XY, _PATHS, _PATHS), max_size=8))
def test_parse_status_reads_any_porcelain_z_output(entries: list[tuple[str, str, str]]) -> None:
    """Any file names survive ``--porcelain -z``; renames skip their original path."""
    text = "".join(
        f"{xy} {path}\0" + (f"{old}\0" if "R" in xy or "C" in xy else "")
        for xy, path, old in entries
    )
    parsed = parse_status(text)
    assert [f.file for f in parsed] == [
        path for xy, path, _ in entries for _ in range(2 if xy in {"MM", "AM", "RM"} else 1)
    ]


@given(
    st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), _PATHS, st.none() | _PATHS),
        max_size=8,
    )
)
def test_parse_numstat_reads_any_numstat_z_output(
    entries: list[tuple[int, int, str, str | None]],
) -> None:
    """Counts and (new) paths survive ``--numstat -z``, renames included."""
    text = "".join(
        f"{a}\t{d}\t{path}\0" if old is None else f"{a}\t{d}\t\0{old}\0{path}\0"
        for a, d, path, old in entries
    )
    parsed = parse_numstat(text)
    assert [(e.additions, e.deletions, e.path, e.old_path) for e in parsed] == entries


_FIELD = st.text(
    st.characters(blacklist_characters="\0\n\x1f", blacklist_categories=("Cs",)), min_size=1
)


@given(st.lists(st.tuples(_FIELD, _FIELD, _FIELD, _FIELD), max_size=6))
def test_parse_log_reads_any_log_z_output(records: list[tuple[str, str, str, str]]) -> None:
    """Hash, author, date and subject survive the unit-separated, NUL-terminated format."""
    text = "".join(FIELD_SEP.join(r) + "\0" for r in records)
    parsed = parse_log(text)
    assert [(c.hash, c.author, c.date, c.message) for c in parsed] == records


@given(
    st.lists(
        st.sampled_from(
            [
                "diff --git a/x b/x",
                "diff --cc y",
                "@@ -1 +1 @@",
                "--- a/x",
                "+++ b/x",
                "rename to z",
                "+text",
                "",
            ]
        )
        | st.text()
    )
)
def test_patch_sections_never_raise(lines: list[str]) -> None:
    """Any text splits into one section per file header, each with the @@ lines after it."""
    sections = patch_sections("\n".join(lines))
    headers = [
        line
        for line in "\n".join(lines).splitlines()
        if line.startswith(("diff --git ", "diff --cc ", "diff --combined "))
    ]
    assert len(sections) == len(headers)
