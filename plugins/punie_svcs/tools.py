"""The svcs validators: service registration, the dependency graph, injection sites."""

from __future__ import annotations

from punie_domain_common import (
    DomainValidationResult,
    ValidationIssue,
    validate_file,
)

from punie_svcs import rules
from punie_tools import Workspace

__all__ = [
    "DomainValidationResult",
    "ValidationIssue",
    "check_dependency_graph",
    "validate_injection_site",
    "validate_service_registration",
]

DOMAIN = "svcs"


def validate_service_registration(file_path: str, workspace: Workspace) -> DomainValidationResult:
    """Check svcs services: @injectable (or registered) dataclasses, values that are instances.

    Args:
        file_path: Python file to check, relative to the workspace root.
    """
    return validate_file(workspace, file_path, DOMAIN, rules.check_service_registration)


def check_dependency_graph(file_path: str, workspace: Workspace) -> DomainValidationResult:
    """Check the Inject[...] graph of a file: no cycles, no service depending on a component.

    Args:
        file_path: Python file to check, relative to the workspace root.
    """
    return validate_file(workspace, file_path, DOMAIN, rules.check_dependency_graph)


def validate_injection_site(file_path: str, workspace: Workspace) -> DomainValidationResult:
    """Check each Inject[T]: Inject is imported and T is one type imported or defined in the file.

    Args:
        file_path: Python file to check, relative to the workspace root.
    """
    return validate_file(workspace, file_path, DOMAIN, rules.check_injection_site)


CHECKS = {
    "validate_service_registration": rules.check_service_registration,
    "check_dependency_graph": rules.check_dependency_graph,
    "validate_injection_site": rules.check_injection_site,
}
"""The rule check behind each tool (the tools run it on a file; tests on source text)."""
