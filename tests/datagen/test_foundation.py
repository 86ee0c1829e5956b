"""Reading the vendored foundation set and JSONL files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from punie_datagen.example import Rejection
from punie_datagen.foundation import load_foundation, load_source, vendored_foundation
from punie_datagen.jsonl import DatasetFileError
from punie_datagen.validate import Validator
from punie_tools import Registry
from punie_tools.prompt import system_prompt


def test_vendored_foundation_ships_with_its_license() -> None:
    """The Phase 28 set is vendored with its MIT license and the source noted."""
    folder = vendored_foundation()
    assert "MIT License" in (folder / "LICENSE").read_text()
    assert "pauleveritt/punie" in (folder / "SOURCE.txt").read_text()


def test_vendored_foundation_has_all_examples() -> None:
    """All 1019 + 107 lines are read, with ids naming file and line."""
    source = load_foundation()
    assert len(source.examples) == 1126
    assert source.examples[0].id == "foundation:train.jsonl:1"
    assert source.files["valid.jsonl"]["examples"] == 107


def test_bad_json_line_names_file_and_line(tmp_path: Path) -> None:
    """Invalid JSON is an error ``file:line: what is wrong``."""
    path = tmp_path / "x.jsonl"
    good = json.dumps({"messages": [{"role": "user", "content": "hi"}]})
    path.write_text(f"{good}\n{{not json\n")
    with pytest.raises(DatasetFileError, match=r"x\.jsonl:2: invalid JSON"):
        load_source("extra", path)


def test_bad_message_shape_names_file_and_line(tmp_path: Path) -> None:
    """A message without string role and content is an error naming the line."""
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"messages": [{"role": "user"}]}) + "\n")
    with pytest.raises(DatasetFileError, match=r"x\.jsonl:1: message 1 must have exactly"):
        load_source("extra", path)


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    """A path that does not exist is reported as such."""
    with pytest.raises(DatasetFileError, match="no such file or folder"):
        load_source("extra", tmp_path / "nowhere")


def test_hover_type_info_examples_are_rejected() -> None:
    """With the real plugins, exactly the 13 examples reading HoverResult.type_info fail."""
    registry = Registry.load()
    if "hover" not in registry:
        pytest.skip("the lsp plugin is not installed")
    tools = {s.name: s for s in registry.tools()}
    validator = Validator(tools, system_prompt(registry.tools()))
    source = load_foundation()
    hover_rejects = [
        e.id
        for e in source.examples
        if "HoverResult has no attribute" in getattr(validator.validate(e), "reason", "")
    ]
    assert len(hover_rejects) == 13
    lines = sorted(int(i.rsplit(":", 1)[1]) for i in hover_rejects if "train.jsonl" in i)
    assert lines == [57, 149, 152, 207, 293, 537, 539, 548, 741, 755, 782, 832, 978]
    rejected = validator.validate(source.examples[56])
    assert isinstance(rejected, Rejection) and rejected.category == "lsp"
