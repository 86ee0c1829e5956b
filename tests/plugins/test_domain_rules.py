"""Every domain rule fires on its broken fixture file, at the right lines, and nowhere else."""

from __future__ import annotations

import pytest

from tests.plugins.domain_cases import FIXTURES, PASSING, RULES, VALIDATORS, RuleCase, run


@pytest.mark.parametrize("case", RULES, ids=lambda c: c.rule)
def test_broken_fixture_yields_exactly_its_rule(case: RuleCase) -> None:
    """The failing fixture reports only this rule, on the expected lines."""
    result = run(case.tool, case.source())
    assert result.parse_error is None
    assert [(i.rule, i.line) for i in result.issues] == [(case.rule, n) for n in case.lines]


@pytest.mark.parametrize("case", RULES, ids=lambda c: c.rule)
def test_passing_fixture_yields_no_issue_of_the_rule(case: RuleCase) -> None:
    """The validator's passing fixture reports nothing at all."""
    source = (FIXTURES[case.domain] / PASSING[case.tool]).read_text(encoding="utf-8")
    result = run(case.tool, source)
    assert (result.valid, result.issues, result.parse_error) == (True, [], None)


@pytest.mark.parametrize("case", RULES, ids=lambda c: c.rule)
def test_every_issue_has_line_and_suggestion(case: RuleCase) -> None:
    """Issues carry a line, a known severity, a message and a suggestion."""
    for issue in run(case.tool, case.source()).issues:
        assert issue.line is not None and issue.line > 0
        assert issue.severity in {"error", "warning"}
        assert issue.message and issue.suggestion


@pytest.mark.parametrize("case", RULES, ids=lambda c: c.rule)
def test_validity_follows_severity(case: RuleCase) -> None:
    """A result is valid exactly when none of its issues is an error."""
    result = run(case.tool, case.source())
    assert result.valid == all(i.severity == "warning" for i in result.issues)


def test_every_validator_has_rule_cases() -> None:
    """Each of the nine validators has at least one broken fixture."""
    assert {c.tool for c in RULES} == set(VALIDATORS)


@pytest.mark.parametrize("tool", sorted(VALIDATORS))
def test_parse_failure_is_reported_not_raised(tool: str) -> None:
    """A syntax error gives valid=False, no issues and a parse_error naming the line."""
    result = run(tool, "def broken(:\n    pass\n")
    assert (result.valid, result.issues) == (False, [])
    assert result.parse_error is not None and result.parse_error.startswith("syntax error at line")


@pytest.mark.parametrize("tool", sorted(VALIDATORS))
def test_domain_is_reported(tool: str) -> None:
    """The result names the validator's domain."""
    domain, validate = VALIDATORS[tool]
    assert validate("x = 1\n").domain == domain
