"""The agent loop driven by a scripted model on the sample project fixture."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from punie_tools import Registry, Workspace
from punie_tools.agent import Agent, AgentLimits, Message
from punie_tools.agent_cli import make_guard
from punie_tools.codemode import format_tool_call, parse_tool_response


@pytest.fixture(name="registry", scope="module")
def fixture_registry() -> Registry:
    """The installed plugins."""
    return Registry.load()


@pytest.fixture(name="project")
def fixture_project(registry: Registry, tmp_path: Path) -> Iterator[Workspace]:
    """A fresh copy of the sample project."""
    copy = registry.fixture("sample_project").materialize(tmp_path)
    with Workspace(copy) as ws:
        yield ws


class ScriptedModel:
    """Returns canned replies in order and records the messages it was shown."""

    def __init__(self, replies: list[str]) -> None:
        self.replies = list(replies)
        self.seen: list[list[Message]] = []

    def __call__(self, messages: Sequence[Message]) -> str:
        self.seen.append(list(messages))
        return self.replies.pop(0)


FIRST = 'r = git_status(".")\nfor f in r.files:\n    print(f.file, f.status)'
SECOND = 'text = read_file("TODO.md")\nprint(text.splitlines()[0])'


def test_multi_step_task(registry: Registry, project: Workspace, tmp_path: Path) -> None:
    """Call, response, second call, response, answer: all in the transcript, saved as JSONL."""
    model = ScriptedModel(
        [format_tool_call(FIRST), format_tool_call(SECOND), "TODO.md is untracked."]
    )
    path = tmp_path / "t" / "session.jsonl"
    agent = Agent(registry.tools(), project, model, transcript_path=path)
    transcript = agent.ask("Which files are untracked, and what does the first one say?")
    roles = [m["role"] for m in transcript.messages]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user", "assistant"]
    first_output = parse_tool_response(transcript.messages[3]["content"])
    assert first_output is not None
    assert "TODO.md untracked" in first_output
    second_output = parse_tool_response(transcript.messages[5]["content"])
    expected = (project.root / "TODO.md").read_text().splitlines()[0]
    assert second_output == expected
    assert transcript.stopped == "answer"
    assert transcript.answer == "TODO.md is untracked."
    assert model.seen[1][-1] == transcript.messages[3]
    saved = json.loads(path.read_text())
    assert saved["messages"] == transcript.messages


def test_step_limit_stops_the_loop(registry: Registry, project: Workspace) -> None:
    """A model that never stops calling tools is cut at max_steps."""
    model = ScriptedModel([format_tool_call('print("again")')] * 3)
    agent = Agent(registry.tools(), project, model, limits=AgentLimits(max_steps=3))
    transcript = agent.ask("loop")
    assert transcript.stopped == "step limit"
    assert len(transcript.steps) == 3


def test_read_only_refuses_write_file(registry: Registry, project: Workspace) -> None:
    """--read-only refuses write_file with a clear message; nothing on disk changes."""
    before = {p: p.read_bytes() for p in project.root.rglob("*") if p.is_file()}
    guard = make_guard(read_only=True, yes=False, ask=None)
    code = 'print(write_file("inventory/models.py", "oops"))'
    model = ScriptedModel([format_tool_call(code), "I could not write."])
    agent = Agent(registry.tools(), project, model, guard=guard)
    transcript = agent.ask("Overwrite models.py")
    response = parse_tool_response(transcript.messages[3]["content"])
    assert response is not None
    assert "write_file is refused: the agent runs in --read-only mode" in response
    after = {p: p.read_bytes() for p in project.root.rglob("*") if p.is_file()}
    assert after == before


def test_unconfirmed_write_needs_yes(registry: Registry, project: Workspace) -> None:
    """Without --yes and without a terminal to ask, writing tools are refused."""
    guard = make_guard(read_only=False, yes=False, ask=None)
    model = ScriptedModel([format_tool_call('write_file("x.txt", "x")'), "ok"])
    Agent(registry.tools(), project, model, guard=guard).ask("write x")
    assert not (project.root / "x.txt").exists()
    allowed = make_guard(read_only=False, yes=True, ask=None)
    model = ScriptedModel([format_tool_call('write_file("x.txt", "x")'), "ok"])
    Agent(registry.tools(), project, model, guard=allowed).ask("write x")
    assert (project.root / "x.txt").read_text() == "x"
