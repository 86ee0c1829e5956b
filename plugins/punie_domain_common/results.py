"""The result types shared by the tdom, svcs and tdom-svcs validators."""

from __future__ import annotations

import attrs


@attrs.frozen
class ValidationIssue:
    """One problem a domain validator found: which rule, where, and how to fix it."""

    rule: str
    severity: str
    message: str
    line: int | None = None
    suggestion: str | None = None


@attrs.frozen
class DomainValidationResult:
    """What a domain validator found in one file; ``valid`` means no issue is an error."""

    valid: bool
    domain: str
    issues: list[ValidationIssue] = attrs.field(factory=list)
    parse_error: str | None = None
