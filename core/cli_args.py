"""Argument parsing shared by the `aitally` and `aitally-ingest` command lines."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn


class Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line naming the problem and where to look."""

    def error(self, message: str) -> NoReturn:
        # One line naming the problem and where to look, instead of the usage dump.
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def positive_int(text: str) -> int:
    """A whole number >= 1; anything else is one usage line naming the value."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def installed_version() -> str | None:
    """The installed aitally version, None when run from a tree that is not installed."""
    try:
        return version("aitally")
    except PackageNotFoundError:
        return None


def version_line(prog: str) -> str:
    """What `PROG --version` prints."""
    return f"{prog} {installed_version() or '(not installed)'}"


def run_command(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    errors: tuple[type[Exception], ...],
) -> int:
    """Parses `argv` and runs the chosen subcommand's `func`, the same way for both programs.

    No subcommand prints the help (status 2); one of `errors` (a problem the person can fix)
    is one line on stderr and status 2; a closed pipe (`| head`) is 0; Ctrl-C is 130.
    """
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except errors as exc:
        print(f"{parser.prog}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130
