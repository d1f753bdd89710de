"""The person's editor, scripted: a `vim` first on PATH that adds one line to the proposal.

Gemini CLI's "Modify with external editor" opens the proposed edit as a diff of two temporary
files (current, proposed) in the editor picked with `/editor` (`general.preferredEditor`), and
only in an editor it knows how to diff: `$VISUAL`/`$EDITOR` open the prompt being typed, never a
proposal (docs/clients/gemini-cli.md). So the harness names its script `vim` and puts it first on
PATH for the scenario; Gemini CLI runs it as `vim -d ... <current> <proposed>`. The script
changes the last file it is given (the proposal) and exits, as a person who saves and quits
would.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from tests.realclients.script import PERSON_LINE

COMMAND = "vim"


def install_editor(home: Path, path: str) -> dict[str, str]:
    """Writes the scripted editor into `home/bin`; returns the environment that makes it the
    person's editor (PATH with its folder first, and `EDITOR`/`VISUAL` naming it)."""
    folder = home / "bin"
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / COMMAND
    script.write_text(
        "#!/bin/sh\n"
        "# Scripted person: adds one line to the proposal (the last file named), saves, quits.\n"
        'for last in "$@"; do :; done\n'
        f'printf "%s\\n" {shlex.quote(PERSON_LINE)} >> "$last"\n'
    )
    script.chmod(0o755)
    return {"PATH": f"{folder}:{path}", "EDITOR": str(script), "VISUAL": str(script)}
