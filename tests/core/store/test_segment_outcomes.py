"""segment_outcomes: the appended migration keeps an existing store's segments, and outcome rows
go with their segment."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from aitally.core.store import Store, segments
from aitally.core.store.schema import MIGRATIONS


def test_a_store_of_the_previous_version_is_migrated_with_its_segments(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    old = sqlite3.connect(path)
    old.executescript(MIGRATIONS[0])
    old.execute(
        "INSERT INTO sessions(id, tool, session_key, created_at) VALUES (1, 'codex', 'X', 0)"
    )
    old.execute(
        "INSERT INTO segments(id, session_id, idx, started_at, last_seen_at, turns)"
        " VALUES (7, 1, 0, 10, 20, 3)"
    )
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()
    store = Store(path)
    try:
        version = store.conn.execute("PRAGMA user_version").fetchone()[0]
        assert version == len(MIGRATIONS)
        assert store.conn.execute("SELECT turns FROM segments WHERE id = 7").fetchone()[0] == 3
        assert segments.outcomes_of(store.conn, [7]) == {}
        with store.transaction() as conn:
            conn.execute("INSERT INTO segment_outcomes VALUES (7, 'commits', 2)")
        assert segments.outcomes_of(store.conn, [7, 8]) == {7: {"commits": 2}}
        with store.transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE id = 1")
        # Deleting a session (erasure) takes its segments' outcomes with them.
        assert store.conn.execute("SELECT COUNT(*) FROM segment_outcomes").fetchone()[0] == 0
    finally:
        store.close()
