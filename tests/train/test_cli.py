"""Tests of ``python -m punie_train``'s options and its clear errors for user mistakes."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from punie_train.cli import build_parser, main


def test_every_option_has_help():
    """``--help`` explains every option."""
    parser = build_parser()
    undocumented = [
        action.option_strings
        for action in parser._actions
        if action.help in (None, "", argparse.SUPPRESS)
    ]
    assert undocumented == []


def test_help_runs_as_a_module():
    """``python -m punie_train --help`` prints the usage and the run options, exit 0."""
    done = subprocess.run(
        [sys.executable, "-m", "punie_train", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "--skip-train" in done.stdout and "--lora-rank" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--eval-limit", "0"], "--eval-limit must be at least 1"),
        (["--resume", "--skip-train"], "--resume continues training"),
        (["--iters", "0"], "iters must be at least 1"),
        (["--model", "./no/such/model"], "no model at './no/such/model'"),
        (["--queries", "no-such-query*"], "no eval query matches no-such-query*"),
    ],
)
def test_user_mistakes_are_one_line_errors(args, message, tmp_path, capsys):
    """Bad flags give ``error: ...`` and exit status 2, no traceback."""
    assert main([*args, "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_bad_yaml_is_a_clear_error(tmp_path, capsys):
    """A config file that is not YAML is named in the error."""
    config = tmp_path / "train.yaml"
    config.write_text("iters: [\n")
    assert main(["--config", str(config)]) == 2
    assert "train.yaml: not valid YAML" in capsys.readouterr().err


def test_unknown_yaml_key_is_a_clear_error(tmp_path, capsys):
    """An unknown key in the config file is an error naming it."""
    config = tmp_path / "train.yaml"
    config.write_text("iterz: 3\n")
    assert main(["--config", str(config)]) == 2
    assert "train.yaml: unknown key 'iterz'" in capsys.readouterr().err


def test_missing_data_file_is_a_clear_error(tmp_path: Path, capsys):
    """A data folder with valid.jsonl but no train.jsonl is an error, not a rebuild."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "valid.jsonl").write_text("{}\n")
    assert main(["--data", str(data), "--run-dir", str(tmp_path / "run")]) == 2
    assert "has no train.jsonl" in capsys.readouterr().err


def test_skip_train_without_adapter_is_a_clear_error(tmp_path, capsys):
    """Evaluating a run dir that holds no adapter says to train first or pass --adapter."""
    assert main(["--skip-train", "--run-dir", str(tmp_path)]) == 2
    assert "train first" in capsys.readouterr().err


def test_cli_modules_do_not_import_mlx():
    """Importing the CLI and run steps leaves mlx unloaded, so OpenBLAS can be preloaded."""
    code = (
        "import sys, punie_train.cli, punie_train.run, punie_eval.report, punie_eval.evaluate\n"
        "print('mlx.core' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_sigterm_stops_like_ctrl_c() -> None:
    """Inside main, SIGTERM raises KeyboardInterrupt (so training checkpoints); handlers restore."""
    import os
    import signal

    from punie_train.cli import interrupt_on_signals

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"), interrupt_on_signals():
        os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) == before
