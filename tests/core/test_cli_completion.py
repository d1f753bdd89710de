"""Completions generated from the parsers, driven by the real shells: bash through COMP_WORDS
and `complete -F`, fish through `complete -C`, zsh through `words`/`CURRENT` and its parser."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

import pytest

from aitally.agent.cli import build_parser as agent_parser
from aitally.core import cli_completion, cli_help
from aitally.ingest.cli import build_parser as ingest_parser
from aitally.installer.templates import FORMATS

# Sources the script, sets COMP_WORDS as bash does when Tab is pressed, calls the function the
# script registered with `complete -F`, and prints what it offers.
DRIVE = """
source "$1"; shift
func=$(complete -p "$1" | sed -E 's/.*-F ([^ ]+).*/\\1/')
COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
"$func"
printf '%s\\n' "${COMPREPLY[@]}"
"""


def _script(tmp_path: Path, parser: argparse.ArgumentParser, shell: str) -> Path:
    path = tmp_path / f"{parser.prog}.{shell}"
    path.write_text(cli_completion.render(parser, shell))
    return path


def bash_complete(script: Path, *words: str) -> list[str]:
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", DRIVE, "drive", str(script), *words],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return sorted(done.stdout.split())


@pytest.mark.parametrize("make", [agent_parser, ingest_parser])
def test_bash_offers_every_subcommand_and_its_options(
    make: type[argparse.ArgumentParser], tmp_path: Path
) -> None:
    parser = make()
    script = _script(tmp_path, parser, "bash")
    top = [name for name, _, _ in cli_help.subcommands(parser) if " " not in name]
    assert bash_complete(script, parser.prog, "") == sorted(top)
    for name, sub, _ in cli_help.subcommands(parser):
        flags = sorted(f for o in cli_help.options(sub) for f in o.flags if f.startswith("--"))
        offered = bash_complete(script, parser.prog, *name.split(), "--")
        assert offered == flags, name


def test_bash_completes_prefixes_values_and_nested_commands(tmp_path: Path) -> None:
    script = _script(tmp_path, agent_parser(), "bash")
    assert bash_complete(script, "aitally", "sta") == ["stats", "status"]
    assert bash_complete(script, "aitally", "stats", "--by", "m") == ["model"]
    # an option's value does not end the command path
    assert bash_complete(script, "aitally", "stats", "--by", "model", "--ti") == []
    assert bash_complete(script, "aitally", "config", "") == ["show"]
    assert bash_complete(script, "aitally", "policy", "template", "--format", "") == sorted(FORMATS)
    # a free-form value (a date) gets no command names offered
    assert bash_complete(script, "aitally", "stats", "--since", "") == []
    (tmp_path / "secret.txt").write_text("x")
    files = bash_complete(script, "aitally", "enroll", "--enroll-secret-file", f"{tmp_path}/sec")
    assert files == [f"{tmp_path}/secret.txt"]


def test_bash_follows_a_parser_change(tmp_path: Path) -> None:
    """Generated, not hand-kept: a new subcommand and option appear without editing a script."""
    parser = agent_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sub.add_parser("frobnicate", help="x").add_argument("--level", choices=["low", "high"])
    script = _script(tmp_path, parser, "bash")
    assert bash_complete(script, "aitally", "frob") == ["frobnicate"]
    assert bash_complete(script, "aitally", "frobnicate", "--level", "") == ["high", "low"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed (apt: fish)")
def test_fish_completes_commands_options_and_values(tmp_path: Path) -> None:
    script = _script(tmp_path, agent_parser(), "fish")

    def complete(line: str) -> list[str]:
        done = subprocess.run(
            ["fish", "--no-config", "-c", f"source {script}; complete -C '{line}'"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return sorted(ln.split("\t")[0] for ln in done.stdout.splitlines())

    assert complete("aitally sta") == ["stats", "status"]
    assert complete("aitally stats --by m") == ["model"]
    assert complete("aitally config ") == ["show"]
    assert "--check" in complete("aitally status --")
    assert "--check" not in complete("aitally stats --")


# zsh runs the generated function body with `words`/`CURRENT` as its completion system sets
# them; compadd (a builtin only inside a completion widget) is replaced by a function that
# matches candidates against PREFIX as compadd does, and prints them.
ZSH_DRIVE = """
compadd() { [[ $1 == -- ]] && shift; local w; for w in "$@"; do
    [[ $w == ${PREFIX}* ]] && print -r -- $w; done; return 0 }
_files() { print -r -- FILES; }
_message() { :; }
words=("${@:2}"); CURRENT=$#words; PREFIX=${words[CURRENT]}
source "$1"
"""


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (apt: zsh)")
def test_zsh_completes_commands_options_and_values(tmp_path: Path) -> None:
    script = _script(tmp_path, agent_parser(), "zsh")

    def complete(*words: str) -> list[str]:
        done = subprocess.run(
            ["zsh", "-f", "-c", ZSH_DRIVE, "drive", str(script), *words],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return sorted(done.stdout.split())

    assert complete("aitally", "sta") == ["stats", "status"]
    assert complete("aitally", "stats", "--by", "m") == ["model"]
    assert complete("aitally", "config", "") == ["show"]
    assert complete("aitally", "enroll", "--token-file", "") == ["FILES"]
    assert "--check" in complete("aitally", "status", "--")


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (apt: zsh)")
@pytest.mark.parametrize("make", [agent_parser, ingest_parser])
def test_zsh_function_parses(make: type[argparse.ArgumentParser], tmp_path: Path) -> None:
    script = _script(tmp_path, make(), "zsh")
    assert script.read_text().startswith(f"#compdef {make().prog}\n")
    done = subprocess.run(["zsh", "-n", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
