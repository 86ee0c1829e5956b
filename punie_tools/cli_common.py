"""What the ``agent``, ``mcp`` and ``acp`` subcommands share: options and start-up."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import overload

from punie_runtime.engines import ENGINES
from punie_tools.registry import Registry, RegistryError
from punie_tools.workspace import Workspace, WorkspaceError

DEFAULT_TRANSCRIPTS = Path.home() / ".local" / "share" / "punie-tools" / "transcripts"


def add_model_options(p: argparse.ArgumentParser) -> None:
    """``--model``, ``--adapter`` and ``--engine``: the chat model the agent runs."""
    p.add_argument(
        "--model",
        default=None,
        help="embedded default model (default), a local mlx-lm directory, or a Hugging Face id",
    )
    p.add_argument(
        "--adapter",
        default=None,
        help="LoRA adapter directory (default: the latest trained adapter under runs/, if any; "
        "'none' for the base model)",
    )
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="what answers: llama.cpp on the adapter fused into a GGUF (needs llama-cpp-python),"
        " numpy or mlx on the float32 model (numpy: llama-family models, ~2x mlx's speed on a"
        " CPU), or auto: llama.cpp when installed, else numpy, else mlx (default: auto)",
    )


def add_turn_options(p: argparse.ArgumentParser, *, turn: str) -> None:
    """``--read-only``, ``--max-steps`` and ``--max-tokens``: what one ``turn`` may do."""
    p.add_argument(
        "--read-only", action="store_true", help="refuse every tool that writes or runs programs"
    )
    p.add_argument("--max-steps", type=int, default=6, help=f"model calls per {turn}")
    p.add_argument("--max-tokens", type=int, default=512, help="tokens per model reply")


def add_transcripts_option(p: argparse.ArgumentParser, *, kind: str = "JSONL") -> None:
    """``--transcripts``: the folder the session transcripts go to."""
    p.add_argument(
        "--transcripts",
        type=Path,
        default=DEFAULT_TRANSCRIPTS,
        help=f"folder for session transcripts, {kind} (default {DEFAULT_TRANSCRIPTS})",
    )


@overload
def open_tools(workspace: str) -> tuple[Workspace, Registry] | None: ...


@overload
def open_tools(workspace: str | None) -> tuple[Workspace | None, Registry] | None: ...


def open_tools(workspace: str | None) -> tuple[Workspace | None, Registry] | None:
    """The workspace (None without one) and the tool registry, plugin warnings printed.

    None once an unusable workspace or registry is reported on stderr.
    """
    opened: Workspace | None = None
    try:
        if workspace is not None:
            opened = Workspace(workspace)
        registry = Registry.load()
    except (WorkspaceError, RegistryError) as exc:
        if opened is not None:
            opened.close()
        print(f"error: {exc}", file=sys.stderr)
        return None
    for err in registry.errors:
        print(f"warning: {err}", file=sys.stderr)
    return opened, registry
