"""The domain validators, their fixture files, and which rule each broken file breaks where."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from punie_domain_common import DomainValidationResult
from punie_domain_common.runner import validate_source
from punie_svcs import tools as svcs
from punie_tdom import tools as tdom
from punie_tdom_svcs import tools as tdom_svcs

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
FIXTURES = {
    "tdom": PLUGINS / "punie_tdom" / "fixtures" / "tdom_app",
    "svcs": PLUGINS / "punie_svcs" / "fixtures" / "svcs_app",
    "tdom-svcs": PLUGINS / "punie_tdom_svcs" / "fixtures" / "tdom_svcs_app",
}
FIXTURE_NAMES = {"tdom": "tdom_app", "svcs": "svcs_app", "tdom-svcs": "tdom_svcs_app"}

SourceValidator = Callable[[str], DomainValidationResult]


def _on_source(module: Any, tool: str) -> SourceValidator:
    check = module.CHECKS[tool]
    return lambda source: validate_source(source, module.DOMAIN, check)


# Tool name -> (domain, the validator on source text).
VALIDATORS: dict[str, tuple[str, SourceValidator]] = {
    tool: (module.DOMAIN, _on_source(module, tool))
    for module in (tdom, svcs, tdom_svcs)
    for tool in module.CHECKS
}

# Tool name -> a fixture file on which it reports nothing.
PASSING = {
    "validate_component": "components/card.py",
    "check_render_tree": "pages/home.py",
    "validate_escape_context": "views/safe.py",
    "validate_service_registration": "services/users.py",
    "check_dependency_graph": "services/users.py",
    "validate_injection_site": "services/users.py",
    "validate_middleware_chain": "middleware/auth.py",
    "check_di_template_binding": "components/dashboard.py",
    "validate_route_pattern": "routes/site.py",
}


@attrs.frozen
class RuleCase:
    """A fixture file that breaks exactly one rule of a validator, on these lines."""

    tool: str
    rule: str
    path: str
    lines: tuple[int, ...]

    @property
    def domain(self) -> str:
        """The domain of the validator."""
        return VALIDATORS[self.tool][0]

    def source(self) -> str:
        """The fixture file's text."""
        return (FIXTURES[self.domain] / self.path).read_text(encoding="utf-8")


RULES = [
    RuleCase("validate_component", "component-must-have-dataclass", "components/badge.py", (6,)),
    RuleCase("validate_component", "component-must-have-callable", "components/alert.py", (8,)),
    RuleCase(
        "validate_component",
        "component-callable-must-return-node",
        "components/avatar.py",
        (15, 25),
    ),
    RuleCase("validate_component", "component-no-fstring-in-html", "components/comment.py", (18,)),
    RuleCase("check_render_tree", "render-tree-unknown-component", "pages/dashboard.py", (13, 15)),
    RuleCase("check_render_tree", "render-tree-missing-return", "components/footer.py", (14,)),
    RuleCase("check_render_tree", "render-tree-nested-html-call", "pages/profile.py", (15,)),
    RuleCase("validate_escape_context", "no-fstring-in-html", "views/search.py", (8, 13, 18, 23)),
    RuleCase(
        "validate_escape_context", "no-string-building-in-html", "views/legacy.py", (8, 13, 18)
    ),
    RuleCase(
        "validate_escape_context", "markup-built-from-strings", "views/email.py", (8, 14, 19, 24)
    ),
    RuleCase(
        "validate_service_registration", "service-must-have-injectable", "services/mailer.py", (12,)
    ),
    RuleCase(
        "validate_service_registration", "service-must-have-dataclass", "services/cache.py", (11,)
    ),
    RuleCase("validate_service_registration", "service-value-is-class", "bootstrap.py", (15,)),
    RuleCase(
        "check_dependency_graph",
        "service-cannot-depend-on-component",
        "services/reports.py",
        (29,),
    ),
    RuleCase("check_dependency_graph", "dependency-cycle", "services/billing.py", (17,)),
    RuleCase(
        "validate_injection_site",
        "inject-type-must-be-imported",
        "services/notifications.py",
        (17,),
    ),
    RuleCase("validate_injection_site", "inject-marker-not-imported", "services/audit.py", (17,)),
    RuleCase(
        "validate_injection_site", "inject-type-not-a-class", "services/sessions.py", (27, 28)
    ),
    RuleCase(
        "validate_middleware_chain",
        "middleware-must-have-categories",
        "middleware/request_log.py",
        (12, 24),
    ),
    RuleCase(
        "validate_middleware_chain",
        "middleware-must-have-correct-signature",
        "middleware/timing.py",
        (18,),
    ),
    RuleCase(
        "validate_middleware_chain", "middleware-must-return-props", "middleware/csrf.py", (17,)
    ),
    RuleCase(
        "validate_middleware_chain",
        "middleware-priority-must-be-int",
        "middleware/rate_limit.py",
        (15,),
    ),
    RuleCase(
        "validate_middleware_chain", "middleware-duplicate-priority", "middleware/stack.py", (26,)
    ),
    RuleCase("check_di_template_binding", "di-template-needs-context", "pages/welcome.py", (26,)),
    RuleCase(
        "check_di_template_binding",
        "di-template-unknown-attribute",
        "components/user_card.py",
        (25,),
    ),
    RuleCase(
        "check_di_template_binding",
        "di-injected-field-unused",
        "components/clock_widget.py",
        (19,),
    ),
    RuleCase("validate_route_pattern", "route-must-start-with-slash", "routes/admin.py", (20,)),
    RuleCase("validate_route_pattern", "route-unbalanced-braces", "routes/api.py", (19, 20)),
    RuleCase("validate_route_pattern", "route-invalid-param", "routes/blog.py", (20, 21)),
    RuleCase("validate_route_pattern", "route-duplicate-param", "routes/shop.py", (14,)),
    RuleCase("validate_route_pattern", "route-unknown-convertor", "routes/files.py", (10, 16)),
]


def run(tool: str, source: str) -> DomainValidationResult:
    """Run the validator named ``tool`` on source text."""
    return VALIDATORS[tool][1](source)
