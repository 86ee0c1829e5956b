"""The tdom validators: component structure, render-tree composition, escape context."""

from __future__ import annotations

from punie_domain_common import (
    DomainValidationResult,
    ValidationIssue,
    validate_file,
)

from punie_tdom import rules
from punie_tools import Workspace

__all__ = [
    "DomainValidationResult",
    "ValidationIssue",
    "check_render_tree",
    "validate_component",
    "validate_escape_context",
]

DOMAIN = "tdom"


def validate_component(file_path: str, workspace: Workspace) -> DomainValidationResult:
    """Check the tdom components of a file: @dataclass, __call__, its return type, no f-strings.

    Args:
        file_path: Python file to check, relative to the workspace root.
    """
    return validate_file(workspace, file_path, DOMAIN, rules.check_component)


def check_render_tree(file_path: str, workspace: Workspace) -> DomainValidationResult:
    """Check tdom composition: every <{Component}> exists and every __call__ returns its node.

    Args:
        file_path: Python file to check, relative to the workspace root.
    """
    return validate_file(workspace, file_path, DOMAIN, rules.check_render_tree)


def validate_escape_context(file_path: str, workspace: Workspace) -> DomainValidationResult:
    """Find XSS risks: f-strings or string building passed to html(), markup built unescaped.

    Args:
        file_path: Python file to check, relative to the workspace root.
    """
    return validate_file(workspace, file_path, DOMAIN, rules.check_escape_context)


CHECKS = {
    "validate_component": rules.check_component,
    "check_render_tree": rules.check_render_tree,
    "validate_escape_context": rules.check_escape_context,
}
"""The rule check behind each tool (the tools run it on a file; tests on source text)."""
