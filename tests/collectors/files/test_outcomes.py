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
    store.close()
    # Every byte the store holds (WAL included) is free of the planted content.
    assert scan_for(tmp_path, b"CANARY", only="s.db") == []


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
