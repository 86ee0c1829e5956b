"""The dataset a run trains on: checked, built when it is the default and missing, summarised.

A folder a killed punie_datagen left half written (`punie_datagen.output`) is never read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from rich.console import Console

from punie_eval.report_data import summarize_manifest
from punie_tools import Registry
from punie_train.config import TrainConfig
from punie_train.run_options import UserError

DATA_FILES = ("train.jsonl", "valid.jsonl")


def ensure_data(data: Path, config: TrainConfig, registry: Registry, console: Console) -> Path:
    """The dataset folder; only the default one is built (or rebuilt) when missing, half
    written, or built from other templates than today's.

    A folder a killed punie_datagen left half written (`punie_datagen.output`) is never read;
    a `--data` folder built from other templates is used with a warning.
    """
    from punie_datagen.output import BUILDING, built_from_other_inputs, dataset_problem

    if data.is_file():
        raise UserError(
            f"--data {data} is a file: give the folder holding {' and '.join(DATA_FILES)}"
        )
    default = data == Path(attrs.fields(TrainConfig).data.default)
    build = f"build it with python -m punie_datagen --out {data}"
    present = [n for n in (*DATA_FILES, "manifest.json", BUILDING) if (data / n).is_file()]
    if not present:
        if not default:
            state = "does not exist" if not data.exists() else "holds no dataset"
            raise UserError(f"--data {data} {state}: {build}, or leave --data out")
        build_data(data, config, registry, console)
        return data
    problem = dataset_problem(data)
    if problem is not None and not default:
        raise UserError(f"{problem}: {build} again")
    # Half written, or built from other templates than today's: the default is built again.
    problem = problem or built_from_other_inputs(data, registry, unknown=default)
    if problem is not None:
        what = "building it again" if default else "training on it as asked"
        console.print(f"[yellow]warning:[/yellow] {problem}: {what}", soft_wrap=True)
        if default:
            build_data(data, config, registry, console)
            return data
    missing = [name for name in DATA_FILES if not (data / name).is_file()]
    if missing:
        raise UserError(
            f"{data} has no {' or '.join(missing)}: rebuild it with python -m "
            f"punie_datagen --out {data}, or point --data at a complete folder"
        )
    return data


def build_data(data: Path, config: TrainConfig, registry: Registry, console: Console) -> None:
    """Build the dataset into ``data`` with punie_datagen's defaults and a progress bar."""
    from punie_datagen import DatagenOptions, DatasetFileError, build_dataset
    from punie_datagen.console import ConsoleReporter, summary_table

    console.print(f"[bold]building the dataset in {data} with punie_datagen[/bold]")
    reporter = ConsoleReporter(console)
    try:
        manifest = build_dataset(
            DatagenOptions(out=data, max_seq_length=config.max_seq_length),
            registry=registry,
            reporter=reporter,
        )
    except (DatasetFileError, OSError) as error:
        raise UserError(f"building the dataset failed: {error}") from None
    finally:
        reporter.close()
    console.print(summary_table(manifest))


def read_manifest(data: Path) -> dict[str, Any]:
    """The report's summary of ``data/manifest.json``, read through `Manifest` (empty if none)."""
    from punie_datagen.manifest import MANIFEST, Manifest

    try:
        manifest = Manifest.from_file(data / MANIFEST)
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return summarize_manifest(attrs.asdict(manifest))
