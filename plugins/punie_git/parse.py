"""Parsers for git's machine-readable output (NUL-separated, so any file name survives)."""

from __future__ import annotations

import codecs
import re

import attrs

from punie_git.results import GitCommit, GitFileStatus

FIELD_SEP = "\x1f"
LOG_FORMAT = "%h%x1f%an%x1f%ai%x1f%s"

_STATUS_NAMES = {
    "M": "modified",
    "A": "added",
    "D": "deleted",
    "R": "renamed",
    "C": "copied",
    "T": "typechange",
}
_UNMERGED = {"DD", "AU", "UD", "UA", "DU", "AA", "UU"}
_FILE_HEADER = re.compile(r"^diff --(git|cc|combined) ")


class GitOutputError(ValueError):
    """git printed something the parser does not understand."""


@attrs.frozen
class NumstatEntry:
    """One file of ``git diff --numstat -z``: added and deleted lines (None for binary files)."""

    path: str
    additions: int | None
    deletions: int | None
    old_path: str | None = None


def parse_status(text: str) -> list[GitFileStatus]:
    """Parse ``git status --porcelain=v1 -z`` into one entry per staged or unstaged change."""
    fields = text.split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    out: list[GitFileStatus] = []
    i = 0
    while i < len(fields):
        entry = fields[i]
        if len(entry) < 4 or entry[2] != " ":
            raise GitOutputError(f"unexpected git status entry {entry!r}")
        xy, path = entry[:2], entry[3:]
        i += 1
        if "R" in xy or "C" in xy:
            i += 1  # renames and copies are followed by the original path
        out.extend(status_entries(xy, path))
    return out


def status_entries(xy: str, path: str) -> list[GitFileStatus]:
    """The changes one porcelain ``XY`` code stands for (index column, then worktree column)."""
    if xy == "??":
        return [GitFileStatus(file=path, status="untracked", staged=False)]
    if xy == "!!":
        return [GitFileStatus(file=path, status="ignored", staged=False)]
    if xy in _UNMERGED:
        return [GitFileStatus(file=path, status="unmerged", staged=False)]
    out = []
    if xy[0] in _STATUS_NAMES:
        out.append(GitFileStatus(file=path, status=_STATUS_NAMES[xy[0]], staged=True))
    if xy[1] in _STATUS_NAMES:
        out.append(GitFileStatus(file=path, status=_STATUS_NAMES[xy[1]], staged=False))
    return out or [GitFileStatus(file=path, status="unknown", staged=False)]


def parse_numstat(text: str) -> list[NumstatEntry]:
    """Parse ``git diff --numstat -z`` (a rename gives an empty path, then old and new)."""
    fields = text.split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    out: list[NumstatEntry] = []
    i = 0
    while i < len(fields):
        parts = fields[i].split("\t", 2)
        i += 1
        if len(parts) != 3:
            raise GitOutputError(f"unexpected git diff --numstat entry {fields[i - 1]!r}")
        added, deleted, path = parts
        old_path = None
        if path == "":
            if i + 1 >= len(fields):
                raise GitOutputError("git diff --numstat: a rename lacks its paths")
            old_path, path = fields[i], fields[i + 1]
            i += 2
        out.append(NumstatEntry(path, _count(added), _count(deleted), old_path))
    return out


def _count(text: str) -> int | None:
    if text == "-":
        return None
    if not text.isdigit():
        raise GitOutputError(f"unexpected line count {text!r} in git diff --numstat")
    return int(text)


@attrs.frozen
class PatchSection:
    """One file of a patch: its (new) path when the headers name it, and its hunk headers."""

    path: str | None
    hunks: list[str] = attrs.field(factory=list)


def patch_sections(patch: str) -> list[PatchSection]:
    """Split a patch into file sections with the ``@@`` header lines of each, in order."""
    sections: list[PatchSection] = []
    headers: list[str] = []
    hunks: list[str] = []
    for line in [*patch.splitlines(), "diff --git END"]:
        if _FILE_HEADER.match(line):
            if headers:
                sections.append(PatchSection(_section_path(headers), hunks))
            headers, hunks = [line], []
        elif line.startswith("@@"):
            hunks.append(line)
        elif headers and not hunks:
            headers.append(line)
    return sections


def _section_path(headers: list[str]) -> str | None:
    """The new path of a section from its header lines (None if they do not say it)."""
    first = headers[0]
    if first.startswith(("diff --cc ", "diff --combined ")):
        return _unquote(first.split(" ", 2)[2])
    for line in headers[1:]:
        for prefix in ("rename to ", "copy to "):
            if line.startswith(prefix):
                return _unquote(line[len(prefix) :])
    minus = plus = None
    for line in headers[1:]:
        if line.startswith("--- "):
            minus = _unquote(line[4:].rstrip("\t"))
        elif line.startswith("+++ "):
            plus = _unquote(line[4:].rstrip("\t"))
    if plus is not None and plus != "/dev/null":
        return plus.removeprefix("b/")
    if minus is not None and minus != "/dev/null":
        return minus.removeprefix("a/")
    rest = first.removeprefix("diff --git ")
    if rest.startswith('"'):
        quoted = re.findall(r'"(?:[^"\\]|\\.)*"', rest)
        return _unquote(quoted[-1]).removeprefix("b/") if quoted else None
    # "a/<p> b/<p>": without a rename both halves are the same path, so the middle is known.
    half = (len(rest) - 1) // 2
    if rest[:half].startswith("a/") and rest[half + 1 :] == "b/" + rest[2:half]:
        return rest[2:half]
    return None


def _unquote(text: str) -> str:
    """Undo git's C-style quoting of unusual file names (``"caf\\303\\251.txt"``)."""
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return text
    raw = codecs.escape_decode(text[1:-1].encode("utf-8"))[0]
    return bytes(raw).decode("utf-8", errors="replace")


def parse_log(text: str) -> list[GitCommit]:
    """Parse ``git log -z --format=LOG_FORMAT`` (fields split by US, commits by NUL)."""
    commits = []
    for record in text.split("\0"):
        record = record.strip("\n")
        if not record:
            continue
        parts = record.split(FIELD_SEP, 3)
        if len(parts) != 4:
            raise GitOutputError(f"unexpected git log record {record!r}")
        short_hash, author, date, subject = parts
        commits.append(
            GitCommit(hash=short_hash, message=subject, author=author or None, date=date or None)
        )
    return commits
