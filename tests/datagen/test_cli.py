"""The ``python -m punie_datagen`` command line."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from punie_datagen import DatagenOptions, tokens
from punie_datagen.cli import main

OPTIONS = (
    "--out",
    "--seed",
    "--per-tool",
    "--foundation",
    "--workers",
    "--max-seq-length",
    "--extra",
    "--valid-fraction",
    "--near-duplicate",
    "--type-check",
)


def words(messages: Sequence[Mapping[str, str]]) -> int:
    """A stand-in token count: words outside the system prompt."""
    return sum(len(m["content"].split()) for m in messages[1:])


@pytest.fixture(name="word_tokens")
def fixture_word_tokens() -> Iterator[None]:
    """Count words instead of loading the embedded tokenizer."""
    previous = tokens.set_loader(lambda: words)
    yield
    tokens.set_loader(previous)


def test_help_explains_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    """--help lists every option with its help text."""
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for flag in OPTIONS:
        assert flag in out
    assert "byte-identical" in out


def test_cli_builds_and_prints_the_summary(
    options: DatagenOptions, word_tokens: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run writes the files and prints the per-category table and rejection stages."""
    args = [
        "--out",
        str(options.out),
        "--per-tool",
        "3",
        "--workers",
        "1",
        "--foundation",
        str(options.foundation),
    ]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "category" in err and "demo" in err and "total" in err
    assert "rejected by stage" in err
    manifest = json.loads((options.out / "manifest.json").read_text())
    assert manifest["tokens"]["counted"] is True


def test_bad_foundation_is_an_error_without_traceback(
    tmp_path: Path, words_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed foundation file gives ``error: file:line: ...`` and exit status 2."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    assert main(["--out", str(tmp_path / "o"), "--foundation", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl:1: invalid JSON" in err
    assert "Traceback" not in err


def test_invalid_option_value_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Out-of-range values are refused before anything runs."""
    assert main(["--out", str(tmp_path / "o"), "--valid-fraction", "1.5"]) == 2
    assert "valid_fraction" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{oops\n", "t.jsonl:1: invalid JSON"),
        (
            f"{json.dumps({'messages': [{'role': 'user', 'content': 'hi'}]})}\n[1, 2]\n",
            "t.jsonl:2:",
        ),
    ],
)
def test_malformed_extra_transcript_is_a_user_error(
    options: DatagenOptions,
    word_tokens: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    message: str,
) -> None:
    """A bad --extra transcript: one ``error: file:line: ...`` line, exit 2, nothing written."""
    extra = tmp_path / "transcripts"
    extra.mkdir()
    (extra / "t.jsonl").write_text(content)
    args = ["--out", str(options.out), "--per-tool", "0", "--extra", str(extra)]
    assert main([*args, "--foundation", str(options.foundation)]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error" in line]
    assert len(lines) == 1 and message in lines[0], err
    assert "Traceback" not in err
    assert not options.out.exists()


def test_missing_extra_folder_is_a_user_error(
    options: DatagenOptions, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An --extra path that does not exist is named, exit 2."""
    missing = tmp_path / "nope"
    args = ["--out", str(options.out), "--extra", str(missing)]
    assert main([*args, "--foundation", str(options.foundation)]) == 2
    assert f"{missing}: no such file or folder" in capsys.readouterr().err
