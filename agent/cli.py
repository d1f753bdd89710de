"""The `aitally` command line: parses arguments and dispatches to each command module."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from aitally.agent.config import ConfigError
from aitally.agent.store import StoreError
from aitally.agent.timerange import TimeRangeError

# Each module adds its subcommands through register(subparsers).
COMMAND_MODULES = [
    "aitally.agent.cmd_agent",
    "aitally.agent.cmd_reports",
    "aitally.uploader.cmd",
    "aitally.agent.cmd_view",
    "aitally.installer.cmd",
]


class UsageError(Exception):
    """Bad arguments found after parsing; exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line naming the problem and where to look, instead of the usage dump.
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="aitally",
        description="Measure AI-tool usage on this machine, "
        "content-free, and show exactly what leaves it.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue  # that part of aitally is not built yet
            raise
        module.register(sub)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"aitally {version('aitally')}"
    except PackageNotFoundError:
        return "aitally (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ConfigError, StoreError, TimeRangeError, UsageError) as exc:
        print(f"aitally: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
