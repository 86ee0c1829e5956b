"""The agent with the real model and a few-iteration adapter; its transcripts as data."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from punie_datagen import DatagenOptions, build_dataset
from punie_tools import Registry, Workspace
from punie_tools.agent import Agent, Message
from punie_tools.codemode import format_tool_call
from tests.train.test_pipeline import FOUNDATION, shortest_tool_chats, train_directly


@pytest.fixture(name="adapter", scope="module")
def fixture_adapter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LoRA adapter trained for a few real iterations on a slice of the foundation set."""
    data = tmp_path_factory.mktemp("agent-slice")
    (data / "train.jsonl").write_text("\n".join(shortest_tool_chats(FOUNDATION / "train.jsonl", 8)))
    (data / "valid.jsonl").write_text("\n".join(shortest_tool_chats(FOUNDATION / "valid.jsonl", 2)))
    summary = train_directly(tmp_path_factory.mktemp("agent-run"), data)
    return Path(summary.best_adapter_path)


def test_once_runs_end_to_end_with_the_real_model(adapter: Path, tmp_path: Path) -> None:
    """`python -m punie_tools agent --once` loads model + adapter, answers, saves a transcript."""
    registry = Registry.load()
    project = registry.fixture("sample_project").materialize(tmp_path)
    transcripts = tmp_path / "transcripts"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "punie_tools",
            "agent",
            "--workspace",
            str(project),
            "--adapter",
            str(adapter),
            "--once",
            "Which files changed in git?",
            "--max-steps",
            "2",
            "--max-tokens",
            "48",
            "--transcripts",
            str(transcripts),
            "--read-only",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    [saved] = list(transcripts.glob("session-*.jsonl"))
    messages = json.loads(saved.read_text())["messages"]
    assert [m["role"] for m in messages[:3]] == ["system", "user", "assistant"]
    assert messages[1]["content"] == "Which files changed in git?"
    # A few iterations decide neither way whether the model answers in prose by step 2: the
    # transcript ends with its answer, or with a tool response when the step limit stopped it.
    if messages[-1]["role"] == "assistant":
        assert "step limit" not in out.stdout + out.stderr
    else:
        assert messages[-1]["content"].startswith("<tool_response>")
        assert "step limit reached" in out.stdout + out.stderr
        assert sum(m["role"] == "assistant" for m in messages) == 2


def test_saved_transcript_is_valid_training_data(tmp_path: Path) -> None:
    """A transcript the agent saved passes datagen's validator and is merged with --extra."""
    registry = Registry.load()
    project = registry.fixture("sample_project").materialize(tmp_path / "ws")
    replies = iter(
        [
            format_tool_call('r = git_status(".")\nfor f in r.files:\n    print(f.file, f.status)'),
            "TODO.md is untracked and CHANGELOG.md is staged.",
        ]
    )

    def model(messages: Sequence[Message]) -> str:
        return next(replies)

    saved = tmp_path / "transcripts" / "session.jsonl"
    with Workspace(project) as ws:
        Agent(registry.tools(), ws, model, transcript_path=saved).ask(
            "Tell me what is going on in the working tree of this repo right now"
        )
    options = DatagenOptions(out=tmp_path / "data", per_tool=0, extra=(saved.parent,), workers=1)
    manifest = build_dataset(options, registry=registry, token_counter=False)
    counts = json.loads((tmp_path / "data" / "manifest.json").read_text())["counts"]
    assert counts["by_source"]["extra"]["rejected"] == 0
    assert counts["by_source"]["extra"]["train"] + counts["by_source"]["extra"]["valid"] == 1
    written = (tmp_path / "data" / "train.jsonl").read_text() + (
        tmp_path / "data" / "valid.jsonl"
    ).read_text()
    assert "Tell me what is going on in the working tree" in written
    assert manifest is not None
