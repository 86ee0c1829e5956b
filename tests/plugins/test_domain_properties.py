"""Properties of the nine domain validators on arbitrary input (hypothesis)."""

from __future__ import annotations

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from punie_domain_common import DomainValidationResult

from tests.plugins.domain_cases import RULES, VALIDATORS, RuleCase, run
from tests.strategies_domain import python_modules

TOOLS = sorted(VALIDATORS)
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _well_formed(result: DomainValidationResult, domain: str) -> None:
    assert isinstance(result, DomainValidationResult)
    assert result.domain == domain
    if result.parse_error is not None:
        assert (result.valid, result.issues) == (False, [])
    else:
        assert result.valid == all(i.severity == "warning" for i in result.issues)
        assert all(i.line is not None and i.suggestion for i in result.issues)


@SETTINGS
@given(text=st.text())
def test_arbitrary_text_gives_a_result(text: str) -> None:
    """Any text, Python or not, gives every validator a well-formed result; none raises."""
    for tool in TOOLS:
        _well_formed(run(tool, text), VALIDATORS[tool][0])


@SETTINGS
@given(source=python_modules())
def test_grammar_python_gives_a_result(source: str) -> None:
    """Valid Python built from the grammar parses and gives well-formed results."""
    cst.parse_module(source)
    for tool in TOOLS:
        result = run(tool, source)
        assert result.parse_error is None
        _well_formed(result, VALIDATORS[tool][0])


def _shifted(result: DomainValidationResult) -> list[tuple[str, str, int | None]]:
    return [(i.rule, i.message, None if i.line is None else i.line + 1) for i in result.issues]


@SETTINGS
@given(source=python_modules())
def test_blank_line_on_top_moves_every_line_by_one(source: str) -> None:
    """Prepending a blank line shifts each reported line by one and changes nothing else."""
    for tool in TOOLS:
        before = run(tool, source)
        after = run(tool, "\n" + source)
        assert [(i.rule, i.message, i.line) for i in after.issues] == _shifted(before)


@pytest.mark.parametrize("case", RULES, ids=lambda c: c.rule)
def test_blank_line_on_top_moves_fixture_issues(case: RuleCase) -> None:
    """The shift also holds on every broken fixture, where issues are known to exist."""
    before = run(case.tool, case.source())
    after = run(case.tool, "\n" + case.source())
    assert before.issues
    assert [(i.rule, i.message, i.line) for i in after.issues] == _shifted(before)


@pytest.mark.parametrize(
    "source",
    ["[" * 5000, "x = (" * 3000 + ")" * 3000, 'x = f"{' * 3000, "y = " + "-" * 1200 + "1"],
    ids=["open-brackets", "nested-parens", "nested-fstrings", "unary-chain"],
)
@pytest.mark.parametrize("tool", TOOLS)
def test_pathological_nesting_is_an_error_not_a_crash(tool: str, source: str) -> None:
    """Deep nesting, which crashes libcst's native parser, comes back as a parse_error."""
    result = run(tool, source)
    _well_formed(result, VALIDATORS[tool][0])
