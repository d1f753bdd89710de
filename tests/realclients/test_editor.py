"""The scripted editor, run as Gemini CLI runs its `vim` (a real child process found on PATH)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.realclients.editor import COMMAND, install_editor
from tests.realclients.script import EDIT_APPLIED_TEXT, EDIT_FILE_TEXT, EDIT_MODIFIED_TEXT


def test_it_changes_the_proposal_only_and_is_found_first_on_path(tmp_path: Path) -> None:
    env = install_editor(tmp_path / "home", "/usr/bin:/bin")
    current, proposal = tmp_path / "old.txt", tmp_path / "new.txt"
    current.write_text(EDIT_FILE_TEXT)
    proposal.write_text(EDIT_APPLIED_TEXT)
    # Gemini CLI's diff command line: options, then the current file, then the proposal.
    argv = [COMMAND, "-d", "-i", "NONE", "-c", "wincmd h", str(current), str(proposal)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=10)
    assert done.returncode == 0
    assert current.read_text() == EDIT_FILE_TEXT
    assert proposal.read_text() == EDIT_MODIFIED_TEXT
    assert env["EDITOR"] == env["VISUAL"] == str(tmp_path / "home" / "bin" / COMMAND)
