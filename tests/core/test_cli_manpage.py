"""Man pages generated from the parsers: clean roff (groff -wall), rendered by `man -l` with
every subcommand, option and example that `--help` has."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from aitally.agent.cli import build_parser as agent_parser
from aitally.core import cli_help, cli_manpage
from aitally.ingest.cli import build_parser as ingest_parser

PARSERS = [agent_parser, ingest_parser]


def _page(tmp_path: Path, parser: argparse.ArgumentParser) -> Path:
    path = tmp_path / f"{parser.prog}.1"
    path.write_text(cli_manpage.render(parser, "9.8.7"))
    return path


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed (groff-base)")
@pytest.mark.parametrize("make", PARSERS)
def test_roff_has_no_warnings(make: type[argparse.ArgumentParser], tmp_path: Path) -> None:
    page = _page(tmp_path, make())
    done = subprocess.run(
        ["groff", "-man", "-Tutf8", "-wall", "-z", str(page)], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr


@pytest.mark.skipif(shutil.which("man") is None, reason="man is not installed (man-db)")
@pytest.mark.parametrize("make", PARSERS)
def test_man_shows_every_command_option_and_example(
    make: type[argparse.ArgumentParser], tmp_path: Path
) -> None:
    parser = make()
    env = {**os.environ, "MANPAGER": "cat", "MANWIDTH": "200", "MAN_KEEP_FORMATTING": ""}
    done = subprocess.run(
        ["man", "-l", str(_page(tmp_path, parser))], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    shown = " ".join(done.stdout.split())  # man justifies text: compare words, not spacing
    assert f"{parser.prog.upper()}(1)" in shown and f"{parser.prog} 9.8.7" in shown
    assert "NO_COLOR" in shown and "FORCE_COLOR" in shown
    for name, sub, _ in [("", parser, ""), *cli_help.subcommands(parser)]:
        assert f"{parser.prog} {name}" in shown, name
        for opt in cli_help.options(sub):
            assert opt.flags[-1] in shown, (name, opt.flags)
        if sub.epilog:
            assert " ".join(sub.epilog.split("\n", 1)[1].split()) in shown, name


def test_text_cannot_become_a_roff_request() -> None:
    assert cli_manpage.escape(".so /etc/passwd\n'x") == "\\&.so /etc/passwd\n\\&'x"
    assert cli_manpage.escape("a-b \\fB") == "a\\-b \\efB"
