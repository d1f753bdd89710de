"""Outcome counts from each tool's files, through the real tailer and store: exactly the
fixtures' truth, once however often the files are read, and none of their content kept."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from aitally.agent import reports
from aitally.collectors.files import registry
from aitally.collectors.files.tailer import Tailer
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store
from tests.collectors.files.helpers import scan_for
from tests.conftest import FIXTURES, SAMPLES

OUTCOMES = FIXTURES / "outcomes"
TRUTH: dict[str, dict[str, dict[str, int]]] = json.loads((OUTCOMES / "truth.json").read_text())


@pytest.fixture
def tailer(tmp_path: Path) -> Iterator[Tailer]:
    store = Store(tmp_path / "s.db")
    yield Tailer(Sessionizer(store), store)
    # Every byte the store holds is free of the planted content (this suite's markers and the
    # real-client recordings'): the WAL while open, the file with its free pages after close.
    assert (tmp_path / "s.db-wal").exists()
    for closed in (False, True):
        if closed:
            store.close()
        for marker in (b"CANARY", b"AITALLY-MARKER"):
            assert scan_for(tmp_path, marker, only="s.db") == []


def read_all(tailer: Tailer, tool: str, root: Path) -> None:
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        rel = PurePosixPath(path.relative_to(root).as_posix())
        adapter = next((a for a in registry.adapters() if a.tool == tool and a.matches(rel)), None)
        if adapter is not None:
            tailer.process(path, rel, adapter)


def outcomes_by_session(tailer: Tailer, tool: str) -> dict[str, dict[str, Any]]:
    return {
        s["tool_session_id"]: s["outcomes"]
        for s in reports.sessions(tailer.store.conn, tool=tool)
        if s["outcomes"]
    }


@pytest.mark.parametrize("tool", sorted(TRUTH))
def test_fixture_outcomes_equal_the_truth_and_count_once(
    tailer: Tailer, tmp_path: Path, tool: str
) -> None:
    root = tmp_path / "root"
    shutil.copytree(OUTCOMES / tool, root)
    read_all(tailer, tool, root)
    assert outcomes_by_session(tailer, tool) == TRUTH[tool]
    assert tailer.store.counters("drift") == {}  # every shape was one the parser knows
    # The files appended to again with a copy of their own lines (a resumed or re-appended
    # history): nothing is counted twice.
    for path in root.rglob("*.jsonl"):
        path.write_bytes(path.read_bytes() * 2)
    read_all(tailer, tool, root)
    assert outcomes_by_session(tailer, tool) == TRUTH[tool]


def test_claude_code_real_samples_count_their_shell_calls(tailer: Tailer, tmp_path: Path) -> None:
    """The real client transcripts (no edits, Bash calls that succeeded) give exactly that."""
    root = tmp_path / "root"
    shutil.copytree(SAMPLES / "claude-code" / "projects", root / "projects")
    read_all(tailer, "claude-code", root)
    assert outcomes_by_session(tailer, "claude-code") == {
        "4bd3503e-e3c4-424d-8bef-a86530d0a17e": {"commands_run": 1},
        "a83accff-5f32-45cb-aafa-15761d1ae4b0": {"commands_run": 2},
    }


# The real-client recordings (tests/fixtures/realclients), counted by hand from their files:
# the "tool" scenario runs one shell command and makes one accepted one-line edit; the resumed,
# forked and subagent scenarios run one shell command. Codex `exec` refused those commands
# (they asked for escalated permissions under approval policy Never), so none ran there. Their
# truth.json files carry no outcome counts, so the expectation is here, one dict per session
# that has outcomes (session ids change whenever the harness records again).
REAL_HOMES = {
    "claude-code": ".claude",
    "codex": ".codex",
    "gemini-cli": ".gemini",
    "copilot-cli": ".copilot",
}
ONE_COMMAND = {"commands_run": 1}
ONE_EDIT = {"edits_proposed": 1, "edits_accepted": 1, "lines_added": 1, "lines_removed": 1}
EDIT_AND_COMMAND = {**ONE_EDIT, "commands_run": 1}
REAL_EXPECTED: dict[tuple[str, str], list[dict[str, int]]] = {
    ("claude-code", "plain"): [],
    ("claude-code", "tool"): [EDIT_AND_COMMAND],
    ("claude-code", "resumed"): [ONE_COMMAND],
    # The shell ran in a subagent: its file belongs to the parent session.
    ("claude-code", "subagent"): [ONE_COMMAND],
    ("codex", "plain"): [],
    ("codex", "tool"): [ONE_EDIT],
    ("codex", "resumed"): [],
    ("codex", "forked"): [],
    ("gemini-cli", "plain"): [],
    ("gemini-cli", "tool"): [EDIT_AND_COMMAND],
    # The call is re-appended with the history twice more: counted once, by its id.
    ("gemini-cli", "resumed"): [ONE_COMMAND],
    ("copilot-cli", "plain"): [],
    ("copilot-cli", "tool"): [EDIT_AND_COMMAND],
    ("copilot-cli", "resumed"): [ONE_COMMAND],
    ("copilot-cli", "interactive"): [ONE_COMMAND],
    # After /compact the stand-in repeats the first prompt's shell call: it ran twice.
    ("copilot-cli", "compacted"): [{"commands_run": 2}],
    # The shell ran in the subagent, whose events are in the session's own file.
    ("copilot-cli", "subagent"): [ONE_COMMAND],
}


def _read_recording(tailer: Tailer, tool: str, scenario: str) -> Path:
    (folder,) = (FIXTURES / "realclients" / tool).glob(f"*/{scenario}")
    read_all(tailer, tool, folder / "home" / REAL_HOMES[tool])
    return folder


@pytest.mark.parametrize(("tool", "scenario"), sorted(REAL_EXPECTED))
def test_real_client_recordings_give_their_outcomes(
    tailer: Tailer, tool: str, scenario: str
) -> None:
    _read_recording(tailer, tool, scenario)
    found = list(outcomes_by_session(tailer, tool).values())
    assert found == REAL_EXPECTED[(tool, scenario)]
    assert tailer.store.counters("drift") == {}


# The harness's outcome scenarios: `outcomes` (an accepted edit, a rejected one, a failing
# command, a commit with an AI trailer) for every client, and `modified` (the person changes a
# proposed edit in their editor, then accepts it) where a client offers that in a terminal.
OUTCOME_SCENARIOS = [
    *((tool, "outcomes") for tool in sorted(REAL_HOMES)),
    ("gemini-cli", "modified"),
]


@pytest.mark.parametrize(("tool", "scenario"), OUTCOME_SCENARIOS)
def test_recorded_outcome_scenarios_give_the_harness_truth(
    tailer: Tailer, tool: str, scenario: str
) -> None:
    """Each outcome scenario, checked against what the run really did (truth.json)."""
    folder = _read_recording(tailer, tool, scenario)
    truth = json.loads((folder / "truth.json").read_text())
    assert truth["outcomes_verified"] is True
    expected = {kind: n for kind, n in truth["outcomes"].items() if n}
    (found,) = outcomes_by_session(tailer, tool).values()
    assert {kind: n for kind, n in found.items() if n} == expected


def test_a_forked_claude_code_history_counts_its_command_once(tailer: Tailer) -> None:
    """The fork's file repeats the parent's tool call under the fork's session id; the call is
    counted once (its tool-use id), for whichever file is read first (docs/architecture.md)."""
    (folder,) = (FIXTURES / "realclients" / "claude-code").glob("*/forked")
    read_all(tailer, "claude-code", folder / "home" / ".claude")
    found = outcomes_by_session(tailer, "claude-code")
    assert list(found.values()) == [ONE_COMMAND]
