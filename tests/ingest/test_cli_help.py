"""Every `aitally-ingest` subcommand's `--help` has a description and a runnable example."""

from __future__ import annotations

import subprocess
import sys

from aitally.core import cli_help
from aitally.ingest.cli import INGEST_EXAMPLES, build_parser


def test_every_subcommand_has_a_description_and_an_example() -> None:
    parser = build_parser()
    commands = [("", parser, ""), *cli_help.subcommands(parser)]
    assert {name for name, _, _ in commands} == set(INGEST_EXAMPLES)
    for name, sub, _ in commands:
        assert sub.description, name
        assert sub.epilog == f"example:\n  {INGEST_EXAMPLES[name]}", name
        # the example names this very command
        assert INGEST_EXAMPLES[name].startswith(f"aitally-ingest {name} ".replace("  ", " ")), name


def test_help_shows_them() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aitally.ingest.cli", "purge", "--help"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0
    assert "Delete records older than the retention." in done.stdout
    assert "example:\n  aitally-ingest purge --months 13" in done.stdout
