"""Rendering templates block by block with a seeded Random."""

from __future__ import annotations

import re

import pytest

from punie_datagen.render import RenderSession, TemplateError, clean_code, draft
from punie_tools import ExampleTemplate

SOURCE = """\
{% set file = choice(files) %}
{% block query %}{{ choice(["Count", "Tally"]) }} {{ file }}{% endblock %}
{% block code %}
    r = count_words("{{ file }}")
    print(r.words)
{% endblock %}
{% block code_2 %}{% if output != "0" %}print("{{ file }}", {{ output }}){% endif %}{% endblock %}
{% block answer %}{{ file }}: {{ output }} ({{ outputs | length }} outputs){% endblock %}
"""


def template(source: str = SOURCE, name: str = "t") -> ExampleTemplate:
    """A template over three files, tagged with a plugin name."""
    return ExampleTemplate(
        name, source, fixture="notes", context={"files": ["a", "b", "c"]}, plugin="p"
    )


def test_top_level_set_is_shared_by_the_blocks() -> None:
    """A value drawn at the top level appears in the query, the code and the answer."""
    found, session = draft(template(), seed=1, index=0)
    file = found.query.split()[-1]
    assert f'count_words("{file}")' in found.code
    assert session.block("answer", output="7", outputs=["7"]).startswith(f"{file}: 7")


def test_same_seed_and_index_render_the_same() -> None:
    """Rendering is a function of (seed, template, index) only."""
    assert draft(template(), 5, 3)[0] == draft(template(), 5, 3)[0]


def test_indices_draw_different_values() -> None:
    """Different indices of one template give more than one distinct rendering."""
    queries = {draft(template(), 5, i)[0].query for i in range(12)}
    assert len(queries) > 1


def test_the_template_name_is_part_of_the_seed() -> None:
    """Two templates with the same source do not draw the same sequence."""
    a = [draft(template(name="a"), 5, i)[0].query for i in range(8)]
    b = [draft(template(name="b"), 5, i)[0].query for i in range(8)]
    assert a != b


def test_code_is_dedented_and_trimmed() -> None:
    """Indentation of a code block inside the template is removed."""
    found, _ = draft(template(), 1, 0)
    assert found.code.startswith("r = count_words(")
    assert found.code.endswith("print(r.words)")


def test_follow_up_block_sees_the_output() -> None:
    """code_2 renders from the previous output and may render empty to stop."""
    _, session = draft(template(), 1, 0)
    assert session.code_blocks() == ["code", "code_2"]
    assert clean_code(session.block("code_2", output="0", outputs=["0"])) == ""
    assert "4" in session.block("code_2", output="4", outputs=["4"])


def test_undefined_name_is_an_error_naming_the_template() -> None:
    """StrictUndefined: a misspelt pool is an error, not an empty string."""
    source = SOURCE.replace("choice(files)", "choice(filez)")
    with pytest.raises(TemplateError, match="p/t: UndefinedError"):
        draft(template(source), 1, 0)


def test_missing_answer_block_is_an_error() -> None:
    """query, code and answer blocks are required."""
    source = "{% block query %}q{% endblock %}{% block code %}print(1){% endblock %}"
    with pytest.raises(TemplateError, match=re.escape("no {% block answer %}")):
        RenderSession(template(source), 1, 0)


def test_unknown_block_is_an_error() -> None:
    """A misspelt block name is reported instead of silently ignored."""
    source = SOURCE.replace("block answer", "block anwser")
    with pytest.raises(TemplateError, match="unknown blocks"):
        RenderSession(template(source), 1, 0)


def test_syntax_error_names_the_line() -> None:
    """A Jinja syntax error names the template and the line."""
    with pytest.raises(TemplateError, match="p/t: line 1"):
        RenderSession(template("{% block query %}{{ x {% endblock %}"), 1, 0)


def test_sandbox_blocks_unsafe_attributes() -> None:
    """Templates render in Jinja's sandbox."""
    source = SOURCE.replace("{{ file }}{% endblock %}", "{{ file.__class__ }}{% endblock %}", 1)
    with pytest.raises(TemplateError):
        draft(template(source), 1, 0)
