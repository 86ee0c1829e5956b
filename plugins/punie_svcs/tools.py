"""The svcs validators: service registration, the dependency graph, injection sites."""

from __future__ import annotations

from punie_domain_common import (
    DomainValidationResult,
    ValidationIssue,
    validate_file,
    validate_source,
)

from punie_svcs import rules
from punie_tools import Workspace

__all__ = [
    "DomainValidationResult",
    "ValidationIssue",
    "check_dependency_graph",
    "check_dependency_graph_source",
    "validate_injection_site",
    "validate_injection_site_source",
    "validate_service_registration",
    "validate_service_registration_source",
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


def validate_service_registration_source(source: str) -> DomainValidationResult:
    """``validate_service_registration`` on source text."""
    return validate_source(source, DOMAIN, rules.check_service_registration)


def check_dependency_graph_source(source: str) -> DomainValidationResult:
    """``check_dependency_graph`` on source text."""
    return validate_source(source, DOMAIN, rules.check_dependency_graph)


def validate_injection_site_source(source: str) -> DomainValidationResult:
    """``validate_injection_site`` on source text."""
    return validate_source(source, DOMAIN, rules.check_injection_site)
