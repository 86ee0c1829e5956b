"""Command line: ``python -m punie_tools {tools,prompt,stubs,exec,agent,mcp,acp}``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from punie_tools.prompt import system_prompt
from punie_tools.registry import Registry, RegistryError
from punie_tools.sandbox import RunLimits, Sandbox
from punie_tools.stubs import stubs
from punie_tools.workspace import Workspace, WorkspaceError


def _load_registry() -> Registry:
    try:
        registry = Registry.load()
    except RegistryError as exc:
        sys.exit(f"error: {exc}")
    for err in registry.errors:
        print(f"warning: {err}", file=sys.stderr)
    return registry


def cmd_tools(args: argparse.Namespace) -> int:
    """List the tools of every loaded plugin."""
    registry = _load_registry()
    rows = [
        {
            "name": s.name,
            "category": s.category,
            "signature": s.signature(),
            "plugin": registry.plugin_of(s.name),
            "summary": s.summary,
        }
        for s in registry.tools()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max((len(r["name"]) for r in rows), default=4)
    for r in rows:
        print(f"{r['category']:<10} {r['name']:<{width}}  {r['signature']}  [{r['plugin']}]")
    print(f"{len(rows)} tools in {len(registry.categories())} categories", file=sys.stderr)
    return 0


def cmd_prompt(args: argparse.Namespace) -> int:
    """Print the system prompt and its size in the embedded model's tokens."""
    text = system_prompt(_load_registry())
    print(text)
    count = _token_count(text)
    size = f"{count} tokens (embedded model)" if count is not None else "tokens: tokenizer n/a"
    print(f"\n[{len(text)} characters, {size}]", file=sys.stderr)
    return 0


def _token_count(text: str) -> int | None:
    try:
        from punie_runtime.tokens import count_tokens
    except ImportError:
        return None
    try:
        return count_tokens(text)
    except Exception as exc:  # the tokenizer is optional for this command
        print(f"note: could not load the embedded tokenizer: {exc}", file=sys.stderr)
        return None


def cmd_stubs(args: argparse.Namespace) -> int:
    """Print the Python stubs of every tool and result type."""
    print(stubs(_load_registry().tools()), end="")
    return 0


def cmd_exec(args: argparse.Namespace) -> int:
    """Run Code Mode code against a workspace and print the reply."""
    code = sys.stdin.read() if args.code == "-" else args.code
    registry = _load_registry()
    try:
        workspace = Workspace(args.workspace)
    except WorkspaceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    limits = RunLimits(seconds=args.timeout, tool_calls=args.max_tool_calls)
    type_stubs = stubs(registry.tools()) if args.type_check else None
    with workspace:
        result = Sandbox(registry.tools(), workspace, limits, type_check_stubs=type_stubs).run(code)
    print(result.reply)
    return 0 if result.ok else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="python -m punie_tools",
        description="Inspect the tool registry and run Code Mode code in the sandbox.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("tools", help="list tools (name, category, signature, plugin)")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.set_defaults(func=cmd_tools)
    p = sub.add_parser("prompt", help="print the system prompt and its token count")
    p.set_defaults(func=cmd_prompt)
    p = sub.add_parser("stubs", help="print Python stubs of the tools and result types")
    p.set_defaults(func=cmd_stubs)
    p = sub.add_parser("exec", help="run Code Mode code in the sandbox and print the reply")
    p.add_argument("--workspace", required=True, help="directory the tools work in")
    p.add_argument("code", help="Python code, or - to read it from standard input")
    p.add_argument("--timeout", type=float, default=20.0, help="seconds of sandbox CPU time")
    p.add_argument("--max-tool-calls", type=int, default=30, help="tool calls allowed per run")
    p.add_argument(
        "--type-check", action="store_true", help="type-check the code against the stubs first"
    )
    p.set_defaults(func=cmd_exec)
    _add_agent(sub)
    _add_protocol_servers(sub)
    return parser


def _add_agent(sub: argparse._SubParsersAction) -> None:
    try:
        from punie_tools.agent_cli import add_agent_parser
    except ImportError:
        return
    add_agent_parser(sub)


def _add_protocol_servers(sub: argparse._SubParsersAction) -> None:
    from punie_tools.serve_cli import add_acp_parser, add_mcp_parser

    add_mcp_parser(sub)
    add_acp_parser(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m punie_tools``."""
    args = build_parser().parse_args(argv)
    return args.func(args)
