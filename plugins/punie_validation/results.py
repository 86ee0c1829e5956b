"""Result classes of the validation tools (field names as in the tools reference)."""

from __future__ import annotations

import attrs


@attrs.frozen
class TypeCheckError:
    """One ty diagnostic (an error or a warning)."""

    file: str
    line: int
    column: int
    severity: str
    code: str
    message: str


@attrs.frozen
class TypeCheckResult:
    """What ``ty check`` found: success means no error-level diagnostics."""

    success: bool
    error_count: int
    warning_count: int
    errors: list[TypeCheckError] = attrs.field(factory=list)
    parse_error: str | None = None


@attrs.frozen
class RuffViolation:
    """One ruff finding; ``fixable`` means ``ruff check --fix`` repairs it (a safe fix)."""

    file: str
    line: int
    column: int
    code: str
    message: str
    fixable: bool


@attrs.frozen
class RuffResult:
    """What ``ruff check`` found: success means no violations."""

    success: bool
    violation_count: int
    fixable_count: int
    violations: list[RuffViolation] = attrs.field(factory=list)
    parse_error: str | None = None


@attrs.frozen
class TestCase:
    """One test: its node id, outcome, duration in seconds and failure message."""

    __test__ = False  # not a pytest test class

    name: str
    outcome: str
    duration: float
    message: str | None = None


@attrs.frozen
class TestResult:
    """What a pytest run reported: success means no failures and no errors."""

    __test__ = False

    success: bool
    passed: int
    failed: int
    errors: int
    skipped: int
    duration: float
    tests: list[TestCase] = attrs.field(factory=list)
    parse_error: str | None = None
