"""A man page (roff, man(7) macros) for an argparse program, generated from its parser.

The page shows what `--help` shows: the program's description, then every subcommand with its
description, options and example; so it cannot drift from the program.
"""

from __future__ import annotations

import argparse

from aitally.core.cli_help import Option, is_group, options, subcommands

# The colour conventions both programs follow (core/terminal.py).
ENVIRONMENT = (
    ("NO_COLOR", "when set and not empty, output is never coloured (no-color.org)."),
    (
        "FORCE_COLOR",
        "when set and not empty, output is coloured even to a pipe or file, "
        "unless NO_COLOR is set (force-color.org).",
    ),
)


def escape(text: str) -> str:
    """`text` safe as roff: backslashes and hyphens escaped, no line read as a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = [("\\&" + ln) if ln.startswith((".", "'")) else ln for ln in text.split("\n")]
    return "\n".join(lines)


def _synopsis(opt: Option) -> str:
    flags = ", ".join(f"\\fB{escape(f)}\\fR" for f in opt.flags)
    if not opt.takes_value:
        return flags
    value = "{" + ",".join(opt.choices) + "}" if opt.choices else opt.metavar
    return f"{flags} \\fI{escape(value)}\\fR"


def _options(parser: argparse.ArgumentParser) -> list[str]:
    lines = []
    for opt in options(parser):
        lines += [".TP", _synopsis(opt), escape(opt.help or "")]
    return lines


def _example(parser: argparse.ArgumentParser) -> list[str]:
    epilog = parser.epilog or ""
    if not epilog.startswith("example:"):
        return []
    return [".PP", "Example:", ".PP", ".RS 4", ".nf", escape(epilog.split("\n", 1)[1].strip()),
            ".fi", ".RE"]  # fmt: skip


def render(parser: argparse.ArgumentParser, version: str, section: int = 1) -> str:
    """The man page of `parser`'s program, `version` naming the release in its footer."""
    prog = parser.prog
    lines = [
        f".\\\" Generated from {prog}'s argparse parser at build time; do not edit.",
        f'.TH {prog.upper()} {section} "" "{escape(prog)} {escape(version)}" "User Commands"',
        ".SH NAME",
        f"{escape(prog)} \\- {escape((parser.description or '').rstrip('.'))}",
        ".SH SYNOPSIS",
        f".B {escape(prog)}",
        "[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]",
        ".SH DESCRIPTION",
        escape(parser.description or ""),
        f"Each command's own options are listed below and by \\fB{escape(prog)} COMMAND "
        "\\-\\-help\\fR.",
        *_example(parser),
        ".SH OPTIONS",
        *_options(parser),
        ".SH COMMANDS",
    ]
    for name, sub, _ in subcommands(parser):
        lines += [f'.SS "{escape(prog)} {escape(name)}"', escape(sub.description or "")]
        if not is_group(sub):  # a group's options are only --help; its actions follow
            lines += _options(sub)
        lines += _example(sub)
    lines.append(".SH ENVIRONMENT")
    for var, meaning in ENVIRONMENT:
        lines += [".TP", f"\\fB{var}\\fR", escape(meaning)]
    lines += [".SH EXIT STATUS", "0 on success; 2 for a usage or configuration error, with one "
              "line on standard error naming it; a command that exits otherwise says so in its own "
              "description.", ""]  # fmt: skip
    return "\n".join(lines)
