"""The text tools: read_file, write_file and run_command."""

from __future__ import annotations

from punie_text.command import CommandLimits, run_command, set_command_limits, shell_operator
from punie_text.files import read_file, write_file

__all__ = [
    "CommandLimits",
    "read_file",
    "run_command",
    "set_command_limits",
    "shell_operator",
    "write_file",
]
