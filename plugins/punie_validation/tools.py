"""Validation tools: ty, ruff and pytest run for real on a workspace path."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from punie_tools import Workspace, WorkspaceError
from punie_tools.child_env import child_env
from punie_validation._parse import OutputError, parse_junit, parse_ruff_json, parse_ty_gitlab
from punie_validation._process import (
    ProgramError,
    require_program,
    run_program,
    workspace_python,
)
from punie_validation.results import (
    RuffResult,
    RuffViolation,
    TestCase,
    TestResult,
    TypeCheckError,
    TypeCheckResult,
)

__all__ = [
    "RuffResult",
    "RuffViolation",
    "TestCase",
    "TestResult",
    "TypeCheckError",
    "TypeCheckResult",
    "pytest_run",
    "ruff_check",
    "typecheck",
]

# Seconds each program may run before its process group is killed.
TY_TIMEOUT = 120.0
RUFF_TIMEOUT = 60.0
PYTEST_TIMEOUT = 300.0


def _target(workspace: Workspace, path: str) -> tuple[Path, str]:
    """The absolute target and its workspace-relative form; raise ValueError if unusable."""
    target = workspace.resolve(path or ".")
    if not target.exists():
        raise ValueError(
            f"no such file or directory: {path!r} (paths are relative to the workspace)"
        )
    return target, workspace.relative(target)


def _relative_to(workspace: Workspace) -> Callable[[str], str]:
    """A function turning a program's (root-relative or absolute) path into a workspace one."""

    def relative(name: str) -> str:
        return workspace.relative(workspace.root / name) if name else name

    return relative


def typecheck(path: str, workspace: Workspace) -> TypeCheckResult:
    """Type-check a file or directory with ty and list its errors and warnings.

    Args:
        path: File or directory relative to the workspace root ("." for the whole project).
    """
    try:
        _, rel = _target(workspace, path)
        ty = require_program("ty")
        args = [
            ty,
            "check",
            "--output-format",
            "gitlab",
            "--no-progress",
            "--color",
            "never",
            "--python",
            workspace_python(workspace.root),
            "--project",
            str(workspace.root),
            rel,
        ]
        out = run_program(args, cwd=workspace.root, timeout=TY_TIMEOUT)
        if out.returncode not in (0, 1):
            return _ty_failure(out.stderr or out.stdout, out.returncode)
        errors = parse_ty_gitlab(out.stdout, _relative_to(workspace))
    except (WorkspaceError, ValueError, ProgramError) as exc:
        return TypeCheckResult(False, 0, 0, [], parse_error=str(exc))
    error_count = sum(e.severity == "error" for e in errors)
    return TypeCheckResult(
        success=error_count == 0,
        error_count=error_count,
        warning_count=len(errors) - error_count,
        errors=errors,
    )


def _ty_failure(text: str, code: int) -> TypeCheckResult:
    lines = [line for line in text.splitlines() if line.strip()]
    detail = "; ".join(lines[-3:]) or f"exit status {code}"
    return TypeCheckResult(False, 0, 0, [], parse_error=f"ty check failed: {detail}")


def ruff_check(path: str, workspace: Workspace) -> RuffResult:
    """Lint a file or directory with ruff and list the violations (fixable ones marked).

    Args:
        path: File or directory relative to the workspace root ("." for the whole project).
    """
    try:
        _, rel = _target(workspace, path)
        ruff = require_program("ruff")
        args = [ruff, "check", "--output-format", "json", "--no-cache", "--no-fix", rel]
        out = run_program(args, cwd=workspace.root, timeout=RUFF_TIMEOUT)
        if out.returncode not in (0, 1):
            detail = "; ".join(out.stderr.strip().splitlines()[-3:]) or f"exit {out.returncode}"
            return RuffResult(False, 0, 0, [], parse_error=f"ruff check failed: {detail}")
        violations = parse_ruff_json(out.stdout, _relative_to(workspace))
    except (WorkspaceError, ValueError, ProgramError) as exc:
        return RuffResult(False, 0, 0, [], parse_error=str(exc))
    return RuffResult(
        success=not violations,
        violation_count=len(violations),
        fixable_count=sum(v.fixable for v in violations),
        violations=violations,
    )


def pytest_run(path: str, workspace: Workspace) -> TestResult:
    """Run pytest on a test file or directory and report every test's outcome.

    Args:
        path: Test file, directory or node id (``tests/test_x.py::test_y``) relative to the
            workspace root.
    """
    file_part, sep, node_part = path.partition("::")
    try:
        _, rel = _target(workspace, file_part)
        python = workspace_python(workspace.root)
        with tempfile.TemporaryDirectory(prefix="punie-pytest-") as tmp:
            report = Path(tmp) / "junit.xml"
            args = [
                python,
                "-m",
                "pytest",
                rel + sep + node_part,
                "-q",
                "-p",
                "no:cacheprovider",
                "--continue-on-collection-errors",
                f"--rootdir={workspace.root}",
                f"--junitxml={report}",
                "-o",
                "junit_family=xunit1",
                "-o",
                "junit_logging=no",
            ]
            env = child_env({"PY_COLORS": "0"})
            out = run_program(args, cwd=workspace.root, timeout=PYTEST_TIMEOUT, env=env)
            xml = report.read_text(encoding="utf-8") if report.is_file() else ""
        if not xml:
            return _pytest_failure(out.stdout + out.stderr, out.returncode)
        cases, duration = parse_junit(xml, workspace.root)
    except (WorkspaceError, ValueError, ProgramError, OutputError, OSError) as exc:
        return TestResult(False, 0, 0, 0, 0, 0.0, [], parse_error=str(exc))
    counts = {
        k: sum(c.outcome == k for c in cases) for k in ("passed", "failed", "error", "skipped")
    }
    problem = None
    if not cases:
        problem = f"pytest collected no tests in {path!r}"
    return TestResult(
        success=problem is None and counts["failed"] == 0 and counts["error"] == 0,
        passed=counts["passed"],
        failed=counts["failed"],
        errors=counts["error"],
        skipped=counts["skipped"],
        duration=duration,
        tests=cases,
        parse_error=problem,
    )


def _pytest_failure(text: str, code: int) -> TestResult:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if any("No module named pytest" in line for line in lines):
        detail = "pytest is not installed in the workspace's Python environment"
    else:
        detail = "; ".join(lines[-3:]) or f"exit status {code}"
    return TestResult(False, 0, 0, 0, 0, 0.0, [], parse_error=f"pytest did not run: {detail}")
