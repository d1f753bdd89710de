"""Walks an argparse parser: every subcommand, and a description and example for each `--help`.

Both programs (`aitally`, `aitally-ingest`) use it, and so do the completion and man-page
generators, so what `--help` says, what a shell completes and what `man` shows come from one
parser.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


def subcommands(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> list[tuple[str, argparse.ArgumentParser, str]]:
    """(full name, parser, one-line help) of every subcommand, nested ones included."""
    found = []
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {a.dest: a.help or "" for a in action._choices_actions}
        for name, sub in action.choices.items():
            full = f"{prefix}{name}"
            found.append((full, sub, helps.get(name, "")))
            found += subcommands(sub, full + " ")
    return found


def is_group(parser: argparse.ArgumentParser) -> bool:
    """True for a command that only holds subcommands (`config`, `policy`)."""
    return parser._subparsers is not None


def apply(parser: argparse.ArgumentParser, examples: Mapping[str, str]) -> None:
    """Sets each subcommand's description (its one-line help, unless it has its own) and,
    from `examples` (full command name, "" for the program itself -> one runnable line), the
    example its `--help` ends with."""
    for name, sub, one_line in [("", parser, ""), *subcommands(parser)]:
        if not sub.description and one_line:
            sub.description = one_line[0].upper() + one_line[1:] + "."
        example = examples.get(name)
        if example:
            sub.epilog = f"example:\n  {example}"
            sub.formatter_class = argparse.RawDescriptionHelpFormatter


@dataclass(frozen=True)
class Option:
    """One optional argument as completions and man pages show it."""

    flags: tuple[str, ...]  # e.g. ("-o", "--output")
    help: str
    takes_value: bool
    choices: tuple[str, ...]
    metavar: str
    is_path: bool  # the value names a file, so a shell completes file names


def options(parser: argparse.ArgumentParser) -> list[Option]:
    """The parser's optional arguments (`--help` included), in the order `--help` lists them."""
    formatter = parser._get_formatter()
    found = []
    for action in parser._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        takes_value = action.nargs != 0
        metavar = action.metavar if isinstance(action.metavar, str) else action.dest.upper()
        found.append(
            Option(
                flags=tuple(action.option_strings),
                # %(default)s and the like, as --help shows them
                help=formatter._expand_help(action) if action.help else "",
                takes_value=takes_value,
                choices=tuple(str(c) for c in action.choices or ()),
                metavar=metavar,
                is_path=takes_value and (action.type is Path or metavar in ("FILE", "DIR")),
            )
        )
    return found


def positional_choices(parser: argparse.ArgumentParser) -> tuple[str, ...]:
    """Values the parser's positional arguments accept from a fixed list (not subcommands)."""
    values: list[str] = []
    for action in parser._actions:
        if action.option_strings or isinstance(action, argparse._SubParsersAction):
            continue
        values += [str(c) for c in action.choices or ()]
    return tuple(values)
