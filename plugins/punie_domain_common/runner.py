"""Run a domain check on source text or on a workspace file, never raising for bad input."""

from __future__ import annotations

from collections.abc import Callable

from punie_domain_common.cst_helpers import Parsed, parse_source
from punie_domain_common.results import DomainValidationResult, ValidationIssue
from punie_tools import Workspace, WorkspaceError

Check = Callable[[Parsed], list[ValidationIssue]]


def validate_source(source: str, domain: str, check: Check) -> DomainValidationResult:
    """Parse ``source`` once and run ``check``; issues come back sorted by line."""
    parsed = parse_source(source)
    if isinstance(parsed, str):
        return DomainValidationResult(valid=False, domain=domain, issues=[], parse_error=parsed)
    try:
        found = check(parsed)
    except RecursionError:
        return DomainValidationResult(
            valid=False, domain=domain, parse_error="the file is nested too deeply to analyse"
        )
    issues = sorted(found, key=lambda i: (i.line or 0, i.rule, i.message))
    valid = not any(issue.severity == "error" for issue in issues)
    return DomainValidationResult(valid=valid, domain=domain, issues=issues)


def validate_file(
    workspace: Workspace, file_path: str, domain: str, check: Check
) -> DomainValidationResult:
    """Read a workspace file and validate it; unreadable files give ``parse_error``."""

    def failed(reason: str) -> DomainValidationResult:
        return DomainValidationResult(valid=False, domain=domain, parse_error=reason)

    try:
        path = workspace.resolve(file_path)
    except WorkspaceError as exc:
        return failed(str(exc))
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "does not exist"
        return failed(f"{file_path} {what}")
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return failed(f"{file_path} is not UTF-8 text")
    except OSError as exc:
        return failed(f"cannot read {file_path}: {exc.strerror or exc}")
    return validate_source(source, domain, check)
