"""The tdom-svcs validators: middleware chains, DI in templates, route patterns."""

from __future__ import annotations

from punie_domain_common import (
    DomainValidationResult,
    ValidationIssue,
    validate_file,
)

from punie_tdom_svcs.binding import check_di_template_binding as _binding_rules
from punie_tdom_svcs.middleware import check_middleware_chain
from punie_tdom_svcs.routes import check_route_pattern
from punie_tools import Workspace

__all__ = [
    "DomainValidationResult",
    "ValidationIssue",
    "check_di_template_binding",
    "validate_middleware_chain",
    "validate_route_pattern",
]

DOMAIN = "tdom-svcs"


def validate_middleware_chain(file_path: str, workspace: Workspace) -> DomainValidationResult:
    """Check tdom-svcs middleware: categories, __call__(self, target, props, context), priorities.

    Args:
        file_path: Python file to check, relative to the workspace root.
    """
    return validate_file(workspace, file_path, DOMAIN, check_middleware_chain)


def check_di_template_binding(file_path: str, workspace: Workspace) -> DomainValidationResult:
    """Check injected services against the t-string templates that render them.

    Args:
        file_path: Python file to check, relative to the workspace root.
    """
    return validate_file(workspace, file_path, DOMAIN, _binding_rules)


def validate_route_pattern(file_path: str, workspace: Workspace) -> DomainValidationResult:
    """Check route paths: leading '/', balanced {braces}, valid and unique parameter names.

    Args:
        file_path: Python file to check, relative to the workspace root.
    """
    return validate_file(workspace, file_path, DOMAIN, check_route_pattern)


CHECKS = {
    "validate_middleware_chain": check_middleware_chain,
    "check_di_template_binding": _binding_rules,
    "validate_route_pattern": check_route_pattern,
}
"""The rule check behind each tool (the tools run it on a file; tests on source text)."""
