"""git_status, git_diff and git_log: the real ``git`` program run inside the workspace."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import attrs

from punie_git.parse import (
    LOG_FORMAT,
    GitOutputError,
    NumstatEntry,
    PatchSection,
    parse_log,
    parse_numstat,
    parse_status,
    patch_sections,
)
from punie_git.results import (
    DiffFile,
    GitCommit,
    GitDiffResult,
    GitFileStatus,
    GitLogResult,
    GitStatusResult,
)
from punie_tools import Workspace, WorkspaceError, timelimits

__all__ = [
    "DiffFile",
    "GitCommit",
    "GitDiffResult",
    "GitFileStatus",
    "GitLogResult",
    "GitStatusResult",
    "git_diff",
    "git_log",
    "git_status",
]

GIT_TIMEOUT = 30.0
# Variables that would point git at another repository than the workspace's.
_LOCATION_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)


class GitError(Exception):
    """git could not answer; the message is what the tool reports as parse_error."""


@attrs.frozen
class _Repo:
    """A git working directory inside the workspace."""

    git: str
    cwd: Path
    prefix: str  # the repository root relative to the workspace root ("" when equal)
    env: dict[str, str] = attrs.field(repr=False)

    def run(self, *args: str) -> str:
        """Run ``git args`` in the directory; GitError with git's message if it fails."""
        limit = timelimits.seconds(GIT_TIMEOUT)
        try:
            done = subprocess.run(
                [self.git, *args],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=limit,
                check=False,
            )
        except subprocess.TimeoutExpired:
            timelimits.hit(f"git {args[0]} took longer than {limit:g} s")
            raise GitError(f"git {args[0]} took longer than {limit:g} s") from None
        except OSError as exc:
            raise GitError(f"cannot run git: {exc}") from None
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", errors="replace").strip()
            raise GitError(message or f"git {args[0]} failed with exit status {done.returncode}")
        return done.stdout.decode("utf-8", errors="replace")

    def path(self, repo_path: str) -> str:
        """A repository-relative path as a workspace-relative one."""
        return f"{self.prefix}/{repo_path}" if self.prefix else repo_path


def _open_repo(workspace: Workspace, path: str) -> _Repo:
    """Find the git repository that holds ``path``, never looking above the workspace root."""
    try:
        directory = workspace.resolve(path)
    except WorkspaceError as exc:
        raise GitError(str(exc)) from None
    if not directory.is_dir():
        raise GitError(f"{path!r} is not a folder in the workspace")
    git = shutil.which("git")
    if git is None:
        raise GitError("git is not installed (no 'git' program on PATH)")
    env = {k: v for k, v in os.environ.items() if k not in _LOCATION_VARS}
    env |= {
        "LC_ALL": "C",
        "GIT_CEILING_DIRECTORIES": str(workspace.root.parent),
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_PAGER": "cat",
    }
    probe = _Repo(git=git, cwd=directory, prefix="", env=env)
    try:
        top = Path(probe.run("rev-parse", "--show-toplevel").strip())
    except GitError as exc:
        if "not a git repository" in str(exc):
            raise GitError(f"{path!r} is not inside a git repository") from None
        raise
    try:
        prefix = top.resolve().relative_to(workspace.root).as_posix()
    except ValueError:
        raise GitError(f"the git repository of {path!r} lies outside the workspace") from None
    return attrs.evolve(probe, prefix="" if prefix == "." else prefix)


def git_status(path: str = ".", *, workspace: Workspace) -> GitStatusResult:
    """Show the working tree status: modified, added, deleted, renamed and untracked files.

    Args:
        path: Folder inside the repository to run git in, relative to the workspace root.
    """
    try:
        repo = _open_repo(workspace, path)
        entries = parse_status(repo.run("status", "--porcelain=v1", "-z"))
    except (GitError, GitOutputError) as exc:
        return GitStatusResult(success=False, parse_error=str(exc))
    files = [attrs.evolve(e, file=repo.path(e.file)) for e in entries]
    return GitStatusResult(
        success=True,
        clean=not files,
        file_count=len({f.file for f in files}),
        files=files,
    )


def git_diff(path: str = ".", staged: bool = False, *, workspace: Workspace) -> GitDiffResult:
    """Show unstaged changes (or staged ones with staged=True): lines added and deleted per file.

    Args:
        path: Folder inside the repository to run git in, relative to the workspace root.
        staged: Compare the index with HEAD (what would be committed) instead of the
            working tree with the index.
    """
    common = ["--no-color", "--no-ext-diff", "--no-relative", "-M"]
    if staged:
        common.append("--cached")
    try:
        repo = _open_repo(workspace, path)
        stats = parse_numstat(repo.run("diff", "--numstat", "-z", *common))
        patch = repo.run("diff", "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/", *common)
    except (GitError, GitOutputError) as exc:
        return GitDiffResult(success=False, parse_error=str(exc))
    files = [
        DiffFile(
            file=repo.path(entry.path),
            additions=entry.additions or 0,
            deletions=entry.deletions or 0,
            hunks=hunks,
        )
        for entry, hunks in _pair_hunks(_merge_paths(stats), patch_sections(patch))
    ]
    return GitDiffResult(
        success=True,
        file_count=len(files),
        additions=sum(f.additions for f in files),
        deletions=sum(f.deletions for f in files),
        files=files,
    )


def _merge_paths(stats: list[NumstatEntry]) -> list[NumstatEntry]:
    """One entry per path: an unmerged file is listed twice by ``--numstat``."""
    merged: dict[str, NumstatEntry] = {}
    for entry in stats:
        if entry.path in merged:
            before = merged[entry.path]
            entry = attrs.evolve(
                before,
                additions=(before.additions or 0) + (entry.additions or 0),
                deletions=(before.deletions or 0) + (entry.deletions or 0),
            )
        merged[entry.path] = entry
    return list(merged.values())


def _pair_hunks(
    stats: list[NumstatEntry], sections: list[PatchSection]
) -> list[tuple[NumstatEntry, list[str]]]:
    """Each file's hunk headers: matched by path, else by position when the counts agree."""
    by_path = {s.path: s.hunks for s in sections if s.path is not None}
    if all(s.path is not None for s in sections) and all(e.path in by_path for e in stats):
        return [(e, by_path[e.path]) for e in stats]
    if len(sections) == len(stats):
        return [(e, s.hunks) for e, s in zip(stats, sections, strict=True)]
    return [(e, by_path.get(e.path, [])) for e in stats]


def git_log(path: str = ".", count: int = 10, *, workspace: Workspace) -> GitLogResult:
    """Show the most recent commits: short hash, subject, author name and date.

    Args:
        path: Folder inside the repository to run git in, relative to the workspace root.
        count: How many commits to show, newest first.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        return GitLogResult(
            success=False, parse_error=f"count must be a positive int, not {count!r}"
        )
    try:
        repo = _open_repo(workspace, path)
        if not _has_commits(repo):
            return GitLogResult(success=True)
        text = repo.run("log", f"-n{count}", "-z", "--no-show-signature", f"--format={LOG_FORMAT}")
        commits: list[GitCommit] = parse_log(text)
    except (GitError, GitOutputError) as exc:
        return GitLogResult(success=False, parse_error=str(exc))
    return GitLogResult(success=True, commits=commits, commit_count=len(commits))


def _has_commits(repo: _Repo) -> bool:
    """Whether HEAD points at a commit (a new repository has none yet)."""
    try:
        repo.run("rev-parse", "--quiet", "--verify", "HEAD^{commit}")
    except GitError:
        return False
    return True
