"""Every subcommand's `--help` gets a description (its one-line help, unless it has its own)
and an example, so `aitally COMMAND --help` answers "what is this, and how do I call it"."""

from __future__ import annotations

import argparse

# One runnable example per command (nested commands by their full name).
EXAMPLES = {
    "run": "aitally run --once",
    "demo": "aitally demo",
    "status": "aitally status --check || echo 'agent not running'",
    "config show": "aitally config show --json",
    "sessions": "aitally sessions --tool claude-code --since 7d",
    "stats": "aitally stats --by model --since 30d",
    "preview": "aitally preview --json",
    "upload": "aitally upload --json",
    "dashboard": "aitally dashboard --no-browser",
    "export": "aitally export --format csv --since 2026-01-01 -o usage.csv",
    "pause": "aitally pause 2h",
    "resume": "aitally resume",
    "install": "aitally install --endpoint https://aitally.example --enroll-secret S",
    "uninstall": "aitally uninstall --purge",
    "enroll": "aitally enroll --endpoint https://aitally.example --enroll-secret S",
    "doctor": "aitally doctor --json",
    "otlp-headers": "aitally otlp-headers",
    "policy template": "aitally policy template --format admx --output ./admx",
}


def _commands(
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
            found += _commands(sub, full + " ")
    return found


def apply(parser: argparse.ArgumentParser) -> None:
    """Sets each subcommand's description and example epilog."""
    for name, sub, one_line in _commands(parser):
        if not sub.description and one_line:
            sub.description = one_line[0].upper() + one_line[1:] + "."
        example = EXAMPLES.get(name)
        if example:
            sub.epilog = f"example:\n  {example}"
            sub.formatter_class = argparse.RawDescriptionHelpFormatter
