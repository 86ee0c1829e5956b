"""The ``mcp`` and ``acp`` subcommands; their modules load only when one runs."""

from __future__ import annotations

import argparse

from punie_tools.cli_common import add_model_options, add_transcripts_option, add_turn_options

MCP_HELP = "serve every tool over MCP (stdio) to Claude Code, Cursor, VS Code, Zed, ..."
MCP_DESCRIPTION = (
    "An MCP server on standard input/output exposing every registered tool "
    "(PUNIE_PLUGIN_PATH drop-ins included); every path stays inside the workspace."
)
ACP_HELP = "serve the agent over ACP (stdio) to Zed, JetBrains IDEs, ..."
ACP_DESCRIPTION = (
    "The coding agent behind the Agent Client Protocol on standard input/output: "
    "sessions, streamed replies, each Code Mode run as a tool call, permission "
    "requests for writing tools, cancellation."
)


def add_mcp_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``mcp``: every tool over the Model Context Protocol (stdio)."""
    p = sub.add_parser("mcp", help=MCP_HELP, description=MCP_DESCRIPTION)
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
    p = sub.add_parser("acp", help=ACP_HELP, description=ACP_DESCRIPTION)
    p.add_argument(
        "--workspace",
        default=None,
        help="the project directory the tools work in (default: each session's cwd)",
    )
    add_model_options(p)
    add_turn_options(p, turn="prompt")
    p.add_argument("--timeout", type=float, default=20.0, help="seconds of sandbox time per run")
    add_transcripts_option(p)
    p.set_defaults(func=_run_acp)


def _run_mcp(args: argparse.Namespace) -> int:
    from punie_tools.mcp_server import cmd_mcp

    return cmd_mcp(args)


def _run_acp(args: argparse.Namespace) -> int:
    from punie_tools.acp_stdio import cmd_acp

    return cmd_acp(args)
