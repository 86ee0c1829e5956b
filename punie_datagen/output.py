"""The dataset folder as one unit: a crash while writing it is always detected on reading.

A build marks the folder (``.building``) before replacing anything, writes each file
atomically (aside, fsync, rename), the manifest with every file's sha256 last, and removes
the mark. ``dataset_problem`` is what readers check: a mark left by a killed build, or a
file that does not match the manifest, and the folder is not a dataset to train on.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from punie_datagen.jsonl import sha256_file
from punie_datagen.manifest import MANIFEST, inputs_sha256
from punie_tools import atomic
from punie_tools.registry import Registry

BUILDING = ".building"
DATA_FILES = ("train.jsonl", "valid.jsonl")
TIMINGS = "timings.json"


def begin(out: Path) -> None:
    """Mark ``out`` as being written (the mark names this process); clear crash leftovers."""
    for name in (*DATA_FILES, MANIFEST, TIMINGS, BUILDING):
        atomic.remove_stale(out / name)
    atomic.write_text(out / BUILDING, f"punie_datagen build, pid {os.getpid()}\n")


def finish(out: Path) -> None:
    """Remove the mark: every file, the manifest last, is in place."""
    (out / BUILDING).unlink(missing_ok=True)
    atomic.fsync_dir(out)


def dataset_problem(out: Path) -> str | None:
    """Why the folder ``out`` is not a complete dataset, or None.

    A folder without a manifest (data from elsewhere) is checked only for the build mark.
    """
    if (out / BUILDING).exists():
        return f"{out} holds an interrupted punie_datagen build ({BUILDING} is still there)"
    path = out / MANIFEST
    if not path.exists():
        return None
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
        listed = {str(name): str(entry["sha256"]) for name, entry in files.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return f"{path} cannot be read ({type(exc).__name__}: {exc})"
    for name, digest in sorted(listed.items()):
        file = out / name
        if not file.is_file():
            return f"{file} is listed in {MANIFEST} but missing"
        if sha256_file(file) != digest:
            return f"{file} does not match its sha256 in {MANIFEST}"
    return None


def built_from_other_inputs(out: Path, registry: Registry, *, unknown: bool = False) -> str | None:
    """Why the complete dataset ``out`` no longer matches the plugins, or None.

    Its manifest's ``inputs_sha256`` differs from today's (a template, pool, tool or the system
    prompt changed since it was built). A manifest without the hash (data from elsewhere, or
    built before manifests held it) counts as built from other inputs only when ``unknown``.
    """
    try:
        recorded = json.loads((out / MANIFEST).read_text(encoding="utf-8")).get("inputs_sha256")
    except (OSError, ValueError, AttributeError):
        return None
    if recorded == inputs_sha256(registry) or (not recorded and not unknown):
        return None
    if not recorded:
        return f"{out} was built before its manifest recorded the templates it came from"
    return f"{out} was built from other templates, tools or system prompt than the plugins' now"
