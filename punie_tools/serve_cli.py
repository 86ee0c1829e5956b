"""The ``mcp`` and ``acp`` subcommands; their modules load only when one runs."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_mcp_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``mcp``: every tool over the Model Context Protocol (stdio)."""
    p = sub.add_parser(
        "mcp",
        help="serve every tool over MCP (stdio) to Claude Code, Cursor, VS Code, Zed, ...",
        description=(
            "An MCP server on standard input/output exposing every registered tool "
            "(PUNIE_PLUGIN_PATH drop-ins included); every path stays inside the workspace."
        ),
    )
    p.add_argument("--workspace", required=True, help="the project directory the tools work in")
    p.add_argument(
        "--read-only", action="store_true", help="refuse every call that writes or runs programs"
    )
    p.add_argument(
        "--execute-code",
        action="store_true",
        help="also offer execute_code: Python calling the tools, run in the Code Mode sandbox",
    )
    p.add_argument(
        "--timeout", type=float, default=20.0, help="seconds of sandbox time per execute_code"
    )
    p.set_defaults(func=_run_mcp)


def add_acp_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``acp``: the agent over the Agent Client Protocol (stdio)."""
    from punie_tools.agent_cli import DEFAULT_TRANSCRIPTS

    p = sub.add_parser(
        "acp",
        help="serve the agent over ACP (stdio) to Zed, JetBrains IDEs, ...",
        description=(
            "The coding agent behind the Agent Client Protocol on standard input/output: "
            "sessions, streamed replies, each Code Mode run as a tool call, permission "
            "requests for writing tools, cancellation."
        ),
    )
    p.add_argument(
        "--workspace",
        default=None,
        help="the project directory the tools work in (default: each session's cwd)",
    )
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
        "--read-only", action="store_true", help="refuse every tool that writes or runs programs"
    )
    p.add_argument("--max-steps", type=int, default=6, help="model calls per prompt")
    p.add_argument("--max-tokens", type=int, default=512, help="tokens per model reply")
    p.add_argument("--timeout", type=float, default=20.0, help="seconds of sandbox time per run")
    p.add_argument(
        "--transcripts",
        type=Path,
        default=DEFAULT_TRANSCRIPTS,
        help=f"folder for session transcripts, JSONL (default {DEFAULT_TRANSCRIPTS})",
    )
    p.set_defaults(func=_run_acp)


def _run_mcp(args: argparse.Namespace) -> int:
    from punie_tools.mcp_server import cmd_mcp

    return cmd_mcp(args)


def _run_acp(args: argparse.Namespace) -> int:
    from punie_tools.acp_stdio import cmd_acp

    return cmd_acp(args)
