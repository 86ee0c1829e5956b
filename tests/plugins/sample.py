"""Helpers for tests on the sample_project fixture: fresh copies and template runs."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import punie_cst
import punie_validation

from punie_datagen.render import RanSoFar, RenderSession, clean_code, clean_text
from punie_tools import Sandbox, Workspace

PLUGINS: dict[str, ModuleType] = {"validation": punie_validation, "cst": punie_cst}


def materialize(dest: Path) -> Path:
    """A fresh copy of sample_project (with its git history) under ``dest``."""
    (fixture,) = punie_validation.punie_fixtures()
    return fixture.materialize(dest)


def render_and_run(
    plugin: str, template_name: str, tmp_path: Path, indexes: tuple[int, ...] = (0, 1)
) -> list[str]:
    """Render a plugin template, run its code blocks on fresh fixture copies; the answers.

    Fails the test if a code block errors or prints nothing, or if the answer is empty.
    """
    module = PLUGINS[plugin]
    (template,) = [t for t in module.punie_example_templates() if t.name == template_name]
    answers = []
    for index in indexes:
        session = RenderSession(template, 20260101, index)
        copy = materialize(tmp_path / f"{template_name}-{index}")
        ran = RanSoFar()
        with Workspace(copy) as ws:
            sandbox = Sandbox(module.punie_tools(), ws)
            for block in session.code_blocks():
                code = clean_code(session.block(block, **ran.context()))
                if not code:
                    break
                result = sandbox.run(code)
                assert result.ok, f"{template_name} #{index} {block}: {result.error}\n{code}"
                assert result.output.strip(), f"{template_name} #{index} {block} printed nothing"
                ran.add(result.reply, result.values)
        assert clean_text(session.block("query"))
        answer = clean_text(session.block("answer", **ran.context()))
        assert answer, f"{template_name} #{index}: empty answer"
        answers.append(answer)
    return answers
