"""Command line: ``python -m punie_datagen`` builds the dataset with a progress bar."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.console import Console

from punie_datagen.console import ConsoleReporter, summary_table
from punie_datagen.jsonl import DatasetFileError
from punie_datagen.options import DatagenOptions
from punie_datagen.pipeline import build_dataset
from punie_tools.options_cli import add_options, given_options
from punie_tools.registry import RegistryError

DESCRIPTION = """\
Build the training set: render every plugin's example templates, run their code for real
in the sandbox on fresh fixture copies, merge with the foundation set and any extra
transcripts, validate, drop duplicates and eval-query leaks, and write a seeded stratified
split as <out>/train.jsonl and <out>/valid.jsonl with <out>/manifest.json."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; its options are generated from DatagenOptions' fields."""
    parser = argparse.ArgumentParser(prog="python -m punie_datagen", description=DESCRIPTION)
    add_options(parser, DatagenOptions)
    return parser


def options_from(args: argparse.Namespace) -> DatagenOptions:
    """The options the command line gave, the class's defaults for the rest."""
    return DatagenOptions(**given_options(args, DatagenOptions))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m punie_datagen``."""
    args = build_parser().parse_args(argv)
    console = Console(stderr=True, soft_wrap=True)
    try:
        options = options_from(args)
    except (TypeError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2
    reporter = ConsoleReporter(console)
    try:
        manifest = build_dataset(options, reporter=reporter)
    except (DatasetFileError, RegistryError, OSError) as exc:
        # A malformed transcript (file:line: what is wrong), clashing plugins, an unwritable
        # --out: all fixable by the user, so one line and status 2, like a bad option.
        reporter.close()
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        return 2
    finally:
        reporter.close()
    console.print(summary_table(manifest))
    stages = ", ".join(f"{k} {v}" for k, v in manifest.counts["rejected_by_stage"].items())
    console.print(f"rejected by stage: {stages or 'none'} (reasons in manifest.json)")
    console.print(
        f"wrote {manifest.train_count} train / {manifest.valid_count} valid examples to "
        f"{options.out}",
        highlight=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
