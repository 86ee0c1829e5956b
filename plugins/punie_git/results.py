"""Result types of the git tools (field names as in the tools reference)."""

from __future__ import annotations

import attrs


@attrs.frozen
class GitFileStatus:
    """One change git status reports: path (new name for renames), kind, whether staged."""

    file: str
    status: str
    staged: bool


@attrs.frozen
class GitStatusResult:
    """The working tree's changes; a file changed both in the index and after it appears twice."""

    success: bool
    clean: bool = False
    file_count: int = 0
    files: list[GitFileStatus] = attrs.field(factory=list)
    parse_error: str | None = None


@attrs.frozen
class DiffFile:
    """One changed file in a diff: its line counts and its ``@@`` hunk headers."""

    file: str
    additions: int
    deletions: int
    hunks: list[str] = attrs.field(factory=list)


@attrs.frozen
class GitDiffResult:
    """Unstaged (or, with staged=True, staged) changes with totals over all files."""

    success: bool
    file_count: int = 0
    additions: int = 0
    deletions: int = 0
    files: list[DiffFile] = attrs.field(factory=list)
    parse_error: str | None = None


@attrs.frozen
class GitCommit:
    """One commit: short hash, subject line, author name and author date."""

    hash: str
    message: str
    author: str | None = None
    date: str | None = None


@attrs.frozen
class GitLogResult:
    """The most recent commits, newest first."""

    success: bool
    commits: list[GitCommit] = attrs.field(factory=list)
    commit_count: int = 0
    parse_error: str | None = None
