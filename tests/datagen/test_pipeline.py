"""build_dataset end to end over a drop-in plugin and a small foundation file."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import attrs
import pytest

from punie_datagen import DatagenOptions, DatasetFileError, Manifest, build_dataset
from punie_datagen.jsonl import read_examples
from punie_datagen.manifest import inputs_sha256
from punie_tools import Registry, Sandbox, Workspace
from punie_tools.codemode import parse_tool_response
from tests.datagen.words_plugin import write_plugin
from tests.dropin import write_shout_plugin

FILES = ("train.jsonl", "valid.jsonl", "manifest.json")


def build(options: DatagenOptions, **changes: object) -> Manifest:
    """Build with the token check off (no tokenizer in unit tests)."""
    return build_dataset(attrs.evolve(options, **changes), token_counter=False)


def lines(out: Path) -> list[dict]:
    """All examples written (train then valid) as JSON objects."""
    return [json.loads(x) for f in FILES[:2] for x in (out / f).read_text().splitlines()]


def test_build_writes_the_split_and_manifest(options: DatagenOptions) -> None:
    """train.jsonl, valid.jsonl and manifest.json are written; hashes match the files."""
    manifest = build(options)
    for name in FILES:
        assert (options.out / name).is_file()
    assert manifest == Manifest.from_file(options.out / "manifest.json")
    assert manifest.train_count > manifest.valid_count > 0
    first = json.loads((options.out / "train.jsonl").read_text().splitlines()[0])
    assert list(first) == ["messages"]
    assert first["messages"][0]["role"] == "system"


def test_counts_add_up_to_every_input(options: DatagenOptions) -> None:
    """train + valid + rejected == everything read, planned or failed to render."""
    manifest = build(options)
    sources = manifest.sources
    inputs = sources["foundation"]["read"] + sum(s["read"] for s in sources["extra"])
    inputs += sources["generated"]["planned"] + sources["generated"]["render_rejected"]
    counts = manifest.counts
    assert counts["train"] + counts["valid"] + counts["rejected"] == inputs
    assert len(manifest.rejected) == counts["rejected"]
    assert sum(r["train"] + r["valid"] for r in counts["by_category"].values()) == len(
        lines(options.out)
    )


def test_same_seed_gives_identical_bytes(options: DatagenOptions, tmp_path: Path) -> None:
    """Two builds with one seed and plugin set write byte-identical files."""
    build(options, out=tmp_path / "one" / "demo")
    build(options, out=tmp_path / "two" / "demo")
    for name in FILES:
        one = (tmp_path / "one" / "demo" / name).read_bytes()
        assert one == (tmp_path / "two" / "demo" / name).read_bytes(), name


def test_different_seed_changes_the_split(options: DatagenOptions, tmp_path: Path) -> None:
    """Another seed gives another split."""
    build(options, out=tmp_path / "one" / "demo")
    build(options, out=tmp_path / "two" / "demo", seed=options.seed + 1)
    one = (tmp_path / "one" / "demo" / "valid.jsonl").read_text()
    assert one != (tmp_path / "two" / "demo" / "valid.jsonl").read_text()


def test_workers_do_not_change_the_output(options: DatagenOptions, tmp_path: Path) -> None:
    """Two worker processes write the same bytes as one."""
    build(options, out=tmp_path / "one" / "demo", workers=1)
    build(options, out=tmp_path / "two" / "demo", workers=2)
    for name in FILES:
        one = (tmp_path / "one" / "demo" / name).read_bytes()
        assert one == (tmp_path / "two" / "demo" / name).read_bytes(), name


def test_generated_tool_responses_are_real(options: DatagenOptions, registry: Registry) -> None:
    """Re-running the code of generated examples on a fresh fixture prints the same response."""
    manifest = build(options)
    generated = [
        e
        for name in FILES[:2]
        for e, eid in zip(
            read_examples(options.out / name, "x", name), manifest.files[name]["ids"], strict=True
        )
        if eid.startswith("generated:")
    ]
    assert len(generated) >= 4
    fixture = registry.fixture("notes")
    for example in generated[:4]:
        responses = [parse_tool_response(m.content) for m in example.messages if m.role == "user"]
        responses = [r for r in responses if r is not None]
        with tempfile.TemporaryDirectory() as tmp, Workspace(fixture.materialize(Path(tmp))) as ws:
            sandbox = Sandbox(registry.tools(), ws)
            assert [sandbox.run(code).reply for code in example.codes()] == responses


def test_foundation_problems_are_recorded(options: DatagenOptions) -> None:
    """Bad attributes, duplicates and eval leaks are rejected with reasons; repairs recorded."""
    manifest = build(options)
    reasons = {r["id"]: r for r in manifest.rejected}
    bad_read = reasons["foundation:foundation.jsonl:4"]
    assert "WordCountResult has no attribute 'type_info'" in bad_read["reason"]
    assert reasons["foundation:foundation.jsonl:5"]["reason"] == (
        "exact duplicate of foundation:foundation.jsonl:1"
    )
    assert reasons["foundation:foundation.jsonl:6"]["stage"] == "leakage"
    assert reasons["foundation:foundation.jsonl:6"]["match"] == "demo-count-1"
    repaired = manifest.repairs["examples"]["foundation:foundation.jsonl:3"]
    assert "renamed count_words_direct() to count_words()" in repaired
    assert manifest.sources["foundation"]["invented_tool_responses"] == {"read": 1, "kept": 1}


def test_failing_silent_and_unstable_code_is_rejected(
    options: DatagenOptions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Code that fails, prints nothing or prints differently on a second run is rejected."""
    answer = "{% block answer %}ok{% endblock %}"
    templates = {
        name: f"{{% block query %}}{name} {{{{ randint(1, 99) }}}}{{% endblock %}}"
        f"{{% block code %}}{code}{{% endblock %}}{answer}"
        for name, code in {
            "fails": 'print(count_words("a.txt").nope)',
            "silent": 'r = count_words("a.txt")',
            "nothing": 'print(count_words("a.txt").parse_error)',
            "unstable": "print(workspace_root())",
        }.items()
    }
    plugins = tmp_path / "other"
    write_plugin(plugins, templates)
    monkeypatch.setenv("PUNIE_PLUGIN_PATH", str(plugins))
    manifest = build(options, per_tool=4)
    reasons = {r["id"].split("#")[0]: r["reason"] for r in manifest.rejected}
    assert "call 1 failed" in reasons["generated:demo_words/fails"]
    assert "prints nothing useful" in reasons["generated:demo_words/silent"]
    assert "prints nothing useful: 'None'" in reasons["generated:demo_words/nothing"]
    assert "prints differently on a second run" in reasons["generated:demo_words/unstable"]
    assert manifest.sources["generated"]["kept"] == 0


def test_manifest_names_the_inputs_the_examples_came_from(
    options: DatagenOptions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry: Registry
) -> None:
    """``inputs_sha256`` is today's plugins' hash; a template's change changes it."""
    manifest = build(options, per_tool=2)
    assert manifest.inputs_sha256 == inputs_sha256(registry)
    saved = Manifest.from_file(options.out / "manifest.json")
    assert saved.inputs_sha256 == manifest.inputs_sha256
    plugins = tmp_path / "more"
    write_plugin(plugins, {"another": "{% block query %}q{% endblock %}"})
    monkeypatch.setenv("PUNIE_PLUGIN_PATH", str(plugins))
    assert inputs_sha256(Registry.load()) != manifest.inputs_sha256


def test_blocks_after_code_read_the_tools_values(
    options: DatagenOptions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Follow-up and answer blocks see ``result`` (the latest block's last value) and
    ``results`` (every value so far), the tools' own objects, not the printed text."""
    template = (
        "{% block query %}Words in a.txt and b.txt, take {{ randint(1, 99) }}?{% endblock %}"
        '{% block code %}print(count_words("a.txt"))\nprint(count_words("b.txt").words)'
        "{% endblock %}"
        '{% block code_2 %}print(count_words("{{ result.path }}").lines){% endblock %}'
        '{% block answer %}{{ results | map(attribute="words") | join(",") }} '
        "{{ result.path }} {{ result.lines }}{% endblock %}"
    )
    plugins = tmp_path / "values"
    write_plugin(plugins, {"values": template})
    monkeypatch.setenv("PUNIE_PLUGIN_PATH", str(plugins))
    manifest = build(options, per_tool=3)
    assert manifest.sources["generated"]["kept"] >= 1
    chats = [x["messages"] for x in lines(options.out) if "take" in x["messages"][1]["content"]]
    assert chats
    for messages in chats:
        first = parse_tool_response(messages[3]["content"]) or ""
        second = parse_tool_response(messages[5]["content"]) or ""
        a_words = first.split("words=")[1].split(",")[0]
        b_words = first.splitlines()[-1]
        assert messages[4]["content"].count('count_words("b.txt")') == 1
        assert messages[-1]["content"] == f"{a_words},{b_words},{b_words} b.txt {second}"


def test_dropin_plugin_tool_shows_up_in_generated_data(
    options: DatagenOptions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The core tests' drop-in plugin (punie_shout) yields examples with no other change."""
    plugins = tmp_path / "shout"
    plugins.mkdir()
    write_shout_plugin(plugins)
    monkeypatch.setenv("PUNIE_PLUGIN_PATH", str(plugins))
    monkeypatch.setenv("PUNIE_LOAD_PLUGINS", "punie_shout")
    manifest = build(options, per_tool=3)
    assert manifest.tools == {"shout": "loud"}
    assert manifest.counts["by_tool"]["shout"]["train"] >= 1
    codes = [m["content"] for x in lines(options.out) for m in x["messages"]]
    assert any('shout("' in c for c in codes)


def test_extra_transcripts_are_validated_and_merged(
    options: DatagenOptions, tmp_path: Path
) -> None:
    """--extra folders are read recursively, validated and merged under extra: ids."""
    folder = tmp_path / "transcripts" / "day1"
    folder.mkdir(parents=True)
    good = {
        "messages": [
            {"role": "user", "content": "a new question about nothing"},
            {"role": "assistant", "content": "an answer"},
        ]
    }
    bad = {"messages": [{"role": "user", "content": "no answer"}]}
    (folder / "t.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    manifest = build(options, extra=(tmp_path / "transcripts",))
    assert manifest.counts["by_source"]["extra"]["rejected"] == 1
    kept = manifest.counts["by_source"]["extra"]
    assert kept["train"] + kept["valid"] == 1
    assert any(r["id"] == "extra:day1/t.jsonl:2" for r in manifest.rejected)


def test_bad_extra_line_is_a_clear_error(options: DatagenOptions, tmp_path: Path) -> None:
    """A malformed transcript line stops the build with file:line."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text("[1, 2]\n")
    with pytest.raises(DatasetFileError, match=r"bad\.jsonl:1: expected a JSON object"):
        build(options, extra=(bad,))


def test_token_limit_rejects_long_examples(options: DatagenOptions) -> None:
    """With a counter, examples over max_seq_length are rejected and lengths recorded."""
    manifest = build_dataset(
        attrs.evolve(options, max_seq_length=40),
        token_counter=lambda ms: sum(len(m["content"].split()) for m in ms[1:]),
    )
    assert manifest.counts["rejected_by_stage"]["tokens"] >= 1
    assert manifest.tokens["train"]["max"] <= 40
