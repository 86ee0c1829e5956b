"""The default build with the installed plugins (slow: it executes every generated example)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from punie_datagen import DatagenOptions, Manifest, build_dataset
from punie_datagen.foundation import load_foundation
from punie_datagen.jsonl import read_examples
from punie_datagen.render import template_key
from punie_datagen.validate import raw_calls
from punie_tools import Registry, Sandbox, Workspace
from punie_tools.codemode import parse_tool_response

pytestmark = pytest.mark.slow


@pytest.fixture(name="default_run", scope="module")
def fixture_default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Manifest, Path]:
    """One default build (all installed plugins, vendored foundation, default options)."""
    out = tmp_path_factory.mktemp("data") / "phase33"
    return build_dataset(DatagenOptions(out=out)), out


def test_default_run_is_big_enough(default_run: tuple[Manifest, Path]) -> None:
    """About 1,276 examples or more, at least 150 of them generated."""
    manifest, _ = default_run
    assert manifest.train_count + manifest.valid_count >= 1276
    assert manifest.sources["generated"]["kept"] >= 150


def test_every_tool_is_in_train(default_run: tuple[Manifest, Path]) -> None:
    """Each registered tool is called in at least one training example."""
    manifest, _ = default_run
    missing = [t for t, row in manifest.counts["by_tool"].items() if row["train"] == 0]
    assert missing == []


def test_tools_missing_from_the_foundation_get_ten_examples(
    default_run: tuple[Manifest, Path],
) -> None:
    """Tools the foundation never calls have at least 10 training examples each."""
    manifest, _ = default_run
    registry = Registry.load()
    tools = {s.name: s for s in registry.tools()}
    foundation = load_foundation().examples
    in_foundation = {t for e in foundation for block in raw_calls(e, tools) for t in block}
    absent = sorted(set(tools) - in_foundation)
    assert absent, "expected tools the foundation does not cover"
    short = {t: manifest.counts["by_tool"][t]["train"] for t in absent}
    assert all(n >= 10 for n in short.values()), short


def test_generated_responses_match_a_rerun(default_run: tuple[Manifest, Path]) -> None:
    """A sample of generated examples prints the same tool responses when run again now."""
    manifest, out = default_run
    registry = Registry.load()
    templates = {template_key(t): t for t in registry.templates()}
    examples = read_examples(out / "train.jsonl", "x", "train")
    ids = manifest.files["train.jsonl"]["ids"]
    generated = [(i, e) for i, e in zip(ids, examples, strict=True) if i.startswith("generated:")]
    for eid, example in generated[:: max(1, len(generated) // 12)]:
        template = templates[eid.removeprefix("generated:").split("#")[0]]
        fixture = registry.fixture(template.fixture)
        expected = [parse_tool_response(m.content) for m in example.messages if m.role == "user"]
        with tempfile.TemporaryDirectory() as tmp, Workspace(fixture.materialize(Path(tmp))) as ws:
            sandbox = Sandbox(registry.tools(), ws)
            got = [sandbox.run(code).reply for code in example.codes()]
        assert got == [r for r in expected if r is not None], eid
