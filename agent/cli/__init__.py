"""The `aitally` command line: one parser, one `main`; each command module adds its subcommands.

Library code never imports this package: it sits on top of every other part.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from aitally.agent.cli import (
    cmd_agent,
    cmd_install,
    cmd_reports,
    cmd_upload,
    cmd_view,
    help_text,
)
from aitally.core import cli_help
from aitally.core.cli_args import Parser, run_command, version_line
from aitally.core.errors import UserFacingError

# The order in which `aitally --help` lists the commands.
COMMAND_MODULES = (cmd_agent, cmd_reports, cmd_upload, cmd_view, cmd_install)


def build_parser() -> argparse.ArgumentParser:
    """The whole `aitally` argument parser."""
    parser = Parser(
        prog="aitally",
        description="Measure AI-tool usage on this machine, "
        "content-free, and show exactly what leaves it.",
    )
    parser.add_argument("--version", action="version", version=version_line("aitally"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module in COMMAND_MODULES:
        module.register(sub)
    cli_help.apply(parser, help_text.EXAMPLES)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command; exit status 2 for bad usage or configuration (one line on stderr)."""
    return run_command(build_parser(), argv, (UserFacingError,))
